#!/usr/bin/env bash
# The Plex database toolkit on its own (`npm run demo:db`): stats, check, remap (dry run, then
# for real) and the repair of a damaged copy, on a generated library.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
bash scripts/setup.sh

DEMO="$CACHE_DIR/demo"
SIZE="${1:-small}"
plexlift() { echo; echo "\$ plexlift $*"; node packages/controller/bin/plexlift.js "$@"; }

node --conditions=source --import tsx scripts/demo-library.ts --dir "$DEMO" --size "$SIZE"
DB="$DEMO/Databases/com.plexapp.plugins.library.db"

plexlift db stats "$DB"
plexlift db check "$DB"
plexlift db remap "$DB" --map /Media=/mnt/media --map /Photo=/mnt/media/Photos/Old --dry-run
plexlift db remap "$DB" --map /Media=/mnt/media --map /Photo=/mnt/media/Photos/Old
plexlift db stats "$DB"
set +e
plexlift db check "$DEMO/damaged/com.plexapp.plugins.library.db"
echo "(exit $?: 3 means corrupt)"
set -e
rm -f "$DEMO/repaired.db"
plexlift db repair "$DEMO/damaged/com.plexapp.plugins.library.db" --out "$DEMO/repaired.db"
plexlift db check "$DEMO/repaired.db"
