#!/usr/bin/env bash
# Builds the agent's Docker image (docker/agent/Dockerfile) from this checkout's build:
#   scripts/build-agent-image.sh [TAG] [docker build options…]
# TAG defaults to plexlift/agent:<version>; e.g. --build-arg BASE=ubuntu:24.04.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
version=$(node -p "require('./packages/agent/package.json').version")
tag=${1:-plexlift/agent:$version}
shift || true
# The agent as built from these sources (a stale bundle would ship old code).
node --import tsx scripts/build-agent-bundle.ts
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp docker/agent/Dockerfile "$context/"
mkdir -p "$context/bundle/bin"
cp -r packages/agent/bundle/. "$context/bundle/"
cp "$(command -v node)" "$context/bundle/bin/node"
log "docker build -t $tag"
docker build -q -t "$tag" "$@" "$context" >/dev/null
echo "$tag"
