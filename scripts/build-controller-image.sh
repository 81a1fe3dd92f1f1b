#!/usr/bin/env bash
# Builds the controller's Docker image (docker/controller/Dockerfile) from this checkout:
#   scripts/build-controller-image.sh [TAG] [docker build options…]
# TAG defaults to plexlift/controller:<version>; e.g. --build-arg BASE=ubuntu:24.04.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
version=$(node -p "require('./packages/controller/package.json').version")
tag=${1:-plexlift/controller:$version}
shift || true
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp docker/controller/Dockerfile "$context/"
mkdir -p "$context/app/bin" "$context/app/controller" "$context/app/agent-bundle"
# The agent the controller serves, and the controller itself, built from these sources.
node --import tsx scripts/build-agent-bundle.ts
cp -r packages/agent/bundle/. "$context/app/agent-bundle/"
node --import tsx scripts/bundle-controller.ts "$context/app/controller"
# The dashboard the daemon serves on its port.
node --import tsx scripts/build-dashboard.ts
cp -r packages/controller/dashboard "$context/app/dashboard"
cp "$(command -v node)" "$context/app/bin/node"
log "docker build -t $tag"
docker build -q -t "$tag" "$@" "$context" >/dev/null
echo "$tag"
