#!/usr/bin/env bash
# 10,000 idle MQTT connections in one process: our watchers vs mqtt.js's keepalive alone (bench/mqtt-idle.bench.mjs).
#   bash bench/mqtt-idle.bench.sh            # builds core and mqtt, raises the fd limit, runs
#   BENCH_N=2000 BENCH_WINDOW_S=20 bash bench/mqtt-idle.bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -b packages/core packages/mqtt
# 10,000 client sockets here and 10,000 in mosquitto (a child of this shell: it inherits the limit).
ulimit -n 65536
exec node --expose-gc bench/mqtt-idle.bench.mjs "$@"
