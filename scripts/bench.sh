#!/bin/sh
# make bench: every benchmark of the project, measured side by side.
set -e
cd "$(dirname "$0")/.."
# runtime/ includes BenchmarkDryRun1000: `apply --dry-run` over 1,000 cells with
# 5 actions each, none running; target <= 500 ms/op for "plan" (after loading).
go test -run '^$' -bench . -benchtime 5x -count 1 ./spec/ ./runtime/ 2>&1 | grep -E '^(Benchmark|ok|PASS|FAIL)|ms/|cells'
# The same dry run as an operator runs it: the cellman binary, median of
# 10 runs (target <= 500 ms).
sh scripts/bench-dryrun.sh
# A converged no-op `cellman apply --all` over 50 running cells with the
# real Linux driver, median of 5 runs (target <= 2 s; root only).
sh scripts/bench-apply.sh
# Linux cells: create+exec+destroy next to crun and unshare, memory per idle
# cell (root only; skips itself otherwise).
sh scripts/bench-cells.sh
