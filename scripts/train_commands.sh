#!/usr/bin/env bash
# Train the shipped `commands` model from scratch on every speaker: the three teacher members
# (training/configs/commands_member.toml, seeds 0/1/2; a member already trained is kept), then the
# student (training/configs/commands.toml) that learns from their mean. About 10 min per member and
# 20 min for the student on 2 cores. Then `make ship` and scripts/calibrate_commands.sh.
# For the cross-validated figure of the same recipe, pass cv: members and student then run --cv 5.
set -euo pipefail
cd "$(dirname "$0")/.."
KWS=.venv/bin/kws
# --resume continues a run that was interrupted (its folder holds train_config.json); a new run starts plain.
continue_flag() { [ -f "$1/train_config.json" ] && echo --resume || true; }
if [ "${1:-}" = "cv" ]; then
  for seed in 0 1 2; do
    $KWS train --config training/configs/commands_member.toml --seed "$seed" --cv 5 --resume --out "runs/commands_seed$seed"
  done
  $KWS train --config training/configs/commands.toml --cv 5 --resume --out runs/commands_cv
  exit 0
fi
for seed in 0 1 2; do
  member="runs/commands_seed$seed/all"
  if [ -f "$member/model.keras" ]; then
    echo "train_commands: $member already trained, kept"
  else
    $KWS train --config training/configs/commands_member.toml --seed "$seed" --all-speakers --out "$member" $(continue_flag "$member")
  fi
done
$KWS train --config training/configs/commands.toml --all-speakers --out runs/commands $(continue_flag runs/commands)
