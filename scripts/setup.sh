#!/usr/bin/env bash
# Gets a fresh machine (root, Debian) ready for the tests, idempotently:
#   1. Debian packages the tests use,
#   2. npm dependencies (npm ci when node_modules is missing or older than the lockfile),
#   3. a sqlite3 shell whose .recover works (built once into .cache/),
#   4. the TypeScript build (the CLI tests run the built bin too).
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

# sqlite3: Debian's stock shell, which the tests prove unfit for .recover and unable to
# handle Plex's collations. docker.io: the engine the image tests start themselves (dockerd).
# rclone and fuse3: the real FUSE mounts the agent tests read media through. zstd: archives.
# cloud-init: its schema validator checks the VM's user data; curl: the VM's agent installer;
# systemd: systemd-analyze verify checks the controller's unit (nothing is started with it).
# zsh and fish: the completion scripts of `plexlift completion` are tried in each shell.
# chromium: the dashboard's tests drive a real headless browser (playwright-core, no download).
apt_install sqlite3 ca-certificates docker.io rclone fuse3 zstd cloud-init curl systemd zsh fish chromium

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

bash scripts/setup-sqlite3.sh

log "build"
npm run --silent build
