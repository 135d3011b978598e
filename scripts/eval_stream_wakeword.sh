#!/usr/bin/env bash
# Streaming figures of a `kws train-wakeword` run on real audio it never trained on, selected or calibrated on:
# the real wake-word clips of a keyword as positives, the run's *report* speakers of speechocean762 and its
# *report* ambience recordings (RUN/splits.json) as negatives. Three positive streams: clean (each clip alone,
# as recorded, between stretches of the negatives), mixed (each clip at its recorded level mixed into the
# speech or ambience under it) and 10 (mixed at 10 dB SNR against the audio under it).
#   scripts/eval_stream_wakeword.sh runs/alexa alexa [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="$1"; KEYWORD="$2"; OUT="${3:-$RUN/eval_stream}"
DATA="${KWS_DATA:-$(cd .. && pwd)/shared/data/real}"
mkdir -p "$OUT"
mapfile -t NEG < <(.venv/bin/python -c "
import json, sys
s = json.load(open('$RUN/splits.json'))
for p in s['speech']['report'] + s['ambience']['report']:
    print('--negatives'); print(p)")
for snr in clean mixed 10; do
  case "$snr" in clean) extra=(--clean) ;; mixed) extra=() ;; *) extra=(--snr-db "$snr") ;; esac
  .venv/bin/kws eval-stream "$RUN" --positives "$DATA/wakeword_clips/$KEYWORD" --keyword "$KEYWORD" "${NEG[@]}" \
    "${extra[@]}" --json "$OUT/$snr.json" --plot "$OUT/det_$snr.png" | tee "$OUT/$snr.txt"
done
