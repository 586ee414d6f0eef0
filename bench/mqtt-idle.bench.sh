#!/usr/bin/env bash
# 10,000 idle MQTT connections in one process: our watchers vs mqtt.js's keepalive alone (bench/mqtt-idle.bench.mjs).
#   bash bench/mqtt-idle.bench.sh            # builds core and mqtt, raises the fd limit, runs
#   BENCH_N=2000 BENCH_WINDOW_S=20 bash bench/mqtt-idle.bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -b packages/core packages/mqtt
# 10,000 client sockets here and 10,000 in mosquitto (a child of this shell: it inherits the limit): raise the soft
# limit to the hard one, and say so if that is still too low.
ulimit -n "$(ulimit -Hn)"
need=$(( ${BENCH_N:-10000} + 1000 ))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
  echo "ulimit -n is $(ulimit -n), below the $need this needs; raise the hard limit (as root: ulimit -Hn $need)" >&2
  exit 1
fi
exec node --expose-gc bench/mqtt-idle.bench.mjs "$@"
