#!/usr/bin/env bash
# The main job on its embedded default: a whole delta job with the local provider, on this
# machine (see scripts/demo-job.ts). `npm run demo:db` shows the database toolkit alone.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
bash scripts/setup.sh
node --conditions=source --import tsx scripts/demo-job.ts --dir "$CACHE_DIR/demo-job"
