#!/usr/bin/env bash
# The calibration / evaluation split of the shared real negatives for the shipped `commands` model.
# Sourced by scripts/calibrate_commands.sh and scripts/eval_stream_commands.sh. Speakers never overlap:
#   training:    speechocean762 speakers 1-16 (sorted by id): the unlabelled speech the shipped model learnt
#                from (training/configs/commands.toml `unlabelled_speakers`), so never used below;
#   calibration: speakers 17-28, the music_* excerpts and five ambiences;
#   evaluation:  speakers 29-40, the six other ambiences.
DATA="${KWS_DATA:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared/data/real}"
SPEECH="$DATA/speech/speechocean762"
AMBIENT="$DATA/ambient"
mapfile -t SPEAKERS < <(ls "$SPEECH" | sort)
TRAIN_SPEECH=("${SPEAKERS[@]:0:16}")
CAL_SPEECH=("${SPEAKERS[@]:16:12}")
EVAL_SPEECH=("${SPEAKERS[@]:28}")
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
