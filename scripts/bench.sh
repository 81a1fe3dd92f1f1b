#!/usr/bin/env bash
# Benchmarks (not tests; never fail on timing): ratios against baselines measured in the same
# run, written to bench/RESULTS.md. Root: they drop the page cache and make network namespaces.
#   npm run bench [-- --only B1,B2,B3]     transfers and warming (bench/run.ts)
#   npm run bench:db [-- --size small]     the Plex DB toolkit against the sqlite3 shell
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
bash scripts/setup.sh
# The previous tool's copy (scp to a loopback sshd) and a plain socket for the shell pipeline.
apt_install openssh-server openssh-client socat iproute2
exec node --conditions=source --import tsx "${BENCH_ENTRY:-bench/run.ts}" "$@"
