#!/usr/bin/env bash
# Calibrate the shipped `commands` model's per-label thresholds (kws/models/commands/detector.json)
# on the calibration half of the shared negatives (see scripts/stream_splits.sh), target 0.5 FA/h.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/stream_splits.sh
.venv/bin/kws calibrate commands "${cal_args[@]}" --target-fa-per-hour "${TARGET:-0.5}"
