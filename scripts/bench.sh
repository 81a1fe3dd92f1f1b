#!/usr/bin/env bash
# Benchmarks (not tests): ratios against the sqlite3 shell measured in the same run.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
bash scripts/setup.sh
exec node --conditions=source --import tsx bench/plex-db.bench.ts "$@"
