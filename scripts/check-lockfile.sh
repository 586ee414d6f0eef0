#!/usr/bin/env bash
# Fails when package-lock.json is not the lockfile npm writes for the manifests: npm resolves the lockfile again
# from a copy of the manifests (`--package-lock-only`: no install, no scripts, ~1 s with a warm cache) and the
# result must be byte for byte the committed one. Catches a dependency added to a package.json without
# `npm install`, a hand-edited lockfile, and a lockfile `npm ci` would refuse.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/ka-lockfile-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$root"
cp package.json package-lock.json "$work/"
[ -f .npmrc ] && cp .npmrc "$work/"
# Every workspace's manifest (packages/*, and any other workspace the root names), wherever it lives.
for manifest in $(find . -name package.json -not -path '*/node_modules/*' -not -path './.git/*' -not -path '*/.turbo/*' | sed 's|^./||'); do
  [ "$manifest" = package.json ] && continue
  mkdir -p "$work/$(dirname "$manifest")"
  cp "$manifest" "$work/$manifest"
done
(cd "$work" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
if ! diff -u package-lock.json "$work/package-lock.json" >"$work/diff"; then
  echo "check-lockfile: package-lock.json does not match the manifests (run \`npm install\` and commit the lockfile):" >&2
  head -n 60 "$work/diff" >&2
  exit 1
fi
echo "check-lockfile: package-lock.json is what npm writes for the manifests"
