#!/usr/bin/env bash
# Train every experiment the report needs, then build the report (results/report/REPORT.md).
# Finished runs are skipped, so running this again only trains what is missing.
# MNIST is trained only when its files are in data/ (see README, "Data").
set -euo pipefail
for experiment in quickstart neuron multiclass binary saturation fair_lr counter_case; do
    echo "== experiment=$experiment" >&2
    ce-vs-mse experiment="$experiment" "$@"
done
if [ -d data/MNIST/raw ]; then
    ce-vs-mse experiment=mnist "$@"
else
    echo "== experiment=mnist skipped: no MNIST in data/ (README, Data, says how to add it)" >&2
fi
ce-vs-mse-report
