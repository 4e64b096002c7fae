#!/usr/bin/env bash
# Train every shipped model, one after another (2 CPU cores: never in parallel), and export
# each into models/NAME as it finishes. Logs: training/runs/NAME/train.log, loss.csv.
#   nohup training/train_all.sh > training/runs/train_all.log 2>&1 &
set -u
cd "$(dirname "$0")/.."
for recipe in ${RECIPES:-shakespeare-mor arith-ut shakespeare-vanilla shakespeare-recursive shakespeare-mor-token shakespeare-recurrent}; do
    echo "=== $(date -u +%FT%TZ) $recipe"
    python -W ignore training/train.py --recipe "$recipe" --seed 0 --resume || echo "!!! $recipe failed"
done
echo "=== $(date -u +%FT%TZ) done"
