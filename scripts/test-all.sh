#!/usr/bin/env bash
# The whole test suite, as the README's test command (`npm test`) and CI (.ci/run) run it:
#   checks   lockfile agrees with the manifests, build, typecheck, lint
#   Node 20  every vitest project (the system Node; the tcp package's FFI path)
#   Node 26  every vitest project (the current LTS; native setKeepAlive(interval, count))
#   Node 22  core, tcp and http (tcp's FFI path on a newer libuv; node:http on every Node, undici 8)
#   Node 24  core, tcp and http (native setKeepAlive(interval, count); the same)
# `npx vitest run` runs every project, so a new package under packages/ joins the Node 20 and 26 passes by itself.
# Every pass runs even when an earlier one failed; the summary at the end names each pass's Node and repeats
# vitest's closing lines, and the script fails if any pass failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)
logs=$(mktemp -d /tmp/ka-test-all.XXXXXX)
trap 'rm -rf "$logs"' EXIT

bash scripts/install-peers.sh || exit 1
# The other Nodes download (once, ~190 MB each from the registry) while the checks run.
for major in 22 24 26; do bash scripts/with-node.sh "$major" true >"$logs/install-$major.log" 2>&1 & done

step() { echo; echo "=== $* ==="; }
step "checks: lockfile, build, typecheck, lint"
bash scripts/check-lockfile.sh || exit 1
npx turbo run build typecheck --output-logs=errors-only || exit 1
npx biome check . || exit 1
npx tsc -p tsconfig.check.json || exit 1
wait || true
for major in 22 24 26; do cat "$logs/install-$major.log"; done

passes=()
failed=0
# pass <major> <label> <vitest args…>: one vitest run on one Node, its output kept for the summary.
pass() {
  local major=$1 label=$2
  shift 2
  local n=${#passes[@]} version rc
  version=$(bash scripts/with-node.sh "$major" node --version 2>/dev/null | tail -n 1)
  step "pass $((n + 1)): Node $version — $label"
  bash scripts/with-node.sh "$major" node "$root/node_modules/vitest/vitest.mjs" run "$@" 2>&1 | tee "$logs/pass-$n.log"
  rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || failed=1
  passes+=("Node $version, $label: $([ "$rc" -eq 0 ] && echo passed || echo "FAILED (exit $rc)")")
}
pass 20 'all projects'
pass 26 'all projects'
pass 22 'core, tcp, http' --project core --project tcp --project http
pass 24 'core, tcp, http' --project core --project tcp --project http

step "summary ($(($(date +%s) - started)) s)"
for i in "${!passes[@]}"; do
  echo "${passes[$i]}"
  # vitest's closing lines (files, tests, duration), without colour codes.
  sed 's/\x1b\[[0-9;]*m//g' "$logs/pass-$i.log" | grep -E '^ *(Test Files|Tests|Duration) ' | sed 's/^ */    /'
done
bad=0
for line in "${passes[@]}"; do [[ "$line" == *FAILED* ]] && bad=$((bad + 1)); done
echo "$((${#passes[@]} - bad)) of ${#passes[@]} passes passed, $bad failed"
exit "$failed"
