#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set-up, type check, lint, tests.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
bash scripts/setup.sh
log "typecheck"
npm run --silent typecheck
log "lint"
npm run --silent lint
log "tests"
npx vitest run "$@"
