#!/usr/bin/env bash
# Train every experiment the report needs, then build the report into results/latest/
# (git-ignored) and compare its numbers with the committed one, results/report/, which only
# --publish rewrites. It ends with the report's answer. Finished runs are skipped and the
# report is rebuilt only when its runs changed, so running this again only does what is
# missing (seconds when nothing is). MNIST is trained only when its files are in data/ (see
# README, "Data"). Other arguments go to every `ce-vs-mse` call.
set -euo pipefail
exec python -m ce_vs_mse.reproduce "$@"
