#!/bin/sh
# make bench: every benchmark of the project, measured side by side.
set -e
cd "$(dirname "$0")/.."
go test -run '^$' -bench . -benchtime 5x -count 1 ./spec/ ./runtime/ 2>&1 | grep -E '^(Benchmark|ok|PASS|FAIL)|ms/|cells'
