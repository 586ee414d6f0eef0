#!/usr/bin/env bash
# The whole test suite, as the README's test command runs it: build, lint, typecheck,
# every vitest project on the system Node (20), then the tcp project again on Node 24.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-peers.sh
npx turbo run build typecheck --output-logs=errors-only
npx biome check .
npx tsc -p tsconfig.check.json
npx vitest run
bash scripts/with-node24.sh node node_modules/vitest/vitest.mjs run --project tcp
