#!/usr/bin/env bash
# Runs a TypeScript file with the packages' sources (no build needed): the `@keepalive/source` export
# condition points each @keepalive/* package at src/, and tsx strips the types. Used for child processes
# that tests start inside network namespaces.
here=$(cd "$(dirname "$0")/.." && pwd)
exec node --conditions=@keepalive/source --import "$here/node_modules/tsx/dist/esm/index.mjs" "$@"
