#!/usr/bin/env bash
# README figures of the shipped `commands` model: the Speech Commands v0.02 test keyword clips of the
# model's held-out (validation) speakers placed (a) into the evaluation ambiences at 10 dB SNR and
# (b) into the evaluation speakers' read speech (recorded level); FA/h on each negative set alone.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/stream_splits.sh
OUT="${OUT:-out/eval_stream}"
mkdir -p "$OUT"
POS="$OUT/held_out_positives"
rm -rf "$POS"
.venv/bin/python scripts/held_out_positives.py "$DATA/speech_commands_v0.02_test" "$POS"
.venv/bin/kws eval-stream commands --positives "$POS" "${eval_ambient_args[@]}" --snr-db 10 \
  --json "$OUT/ambient_10db.json" --plot "$OUT/ambient_10db.png"
.venv/bin/kws eval-stream commands --positives "$POS" "${eval_speech_args[@]}" \
  --json "$OUT/speech.json" --plot "$OUT/speech.png"
