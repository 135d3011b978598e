#!/usr/bin/env bash
# The calibration / evaluation split of the shared real negatives for the shipped `commands` model.
# Sourced by scripts/calibrate_commands.sh and scripts/eval_stream_commands.sh. Speakers never overlap:
#   calibration: speechocean762 speakers 1-20 (sorted by id), the music_* excerpts and five ambiences;
#   evaluation:  speechocean762 speakers 21-40, the six other ambiences.
DATA="${KWS_DATA:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared/data/real}"
SPEECH="$DATA/speech/speechocean762"
AMBIENT="$DATA/ambient"
mapfile -t SPEAKERS < <(ls "$SPEECH" | sort)
CAL_SPEECH=("${SPEAKERS[@]:0:20}")
EVAL_SPEECH=("${SPEAKERS[@]:20}")
CAL_AMBIENT=(blanket_birds blanket_boat blanket_city blanket_coffee-shop blanket_fireplace)
EVAL_AMBIENT=(blanket_rain blanket_storm blanket_summer-night blanket_train blanket_waves blanket_wind)
cal_args=()
for s in "${CAL_SPEECH[@]}"; do cal_args+=(--negatives "$SPEECH/$s"); done
for a in "${CAL_AMBIENT[@]}"; do cal_args+=(--negatives "$AMBIENT/$a.ogg"); done
for m in "$AMBIENT"/music_*.ogg; do cal_args+=(--negatives "$m"); done
eval_speech_args=()
for s in "${EVAL_SPEECH[@]}"; do eval_speech_args+=(--negatives "$SPEECH/$s"); done
eval_ambient_args=()
for a in "${EVAL_AMBIENT[@]}"; do eval_ambient_args+=(--negatives "$AMBIENT/$a.ogg"); done
