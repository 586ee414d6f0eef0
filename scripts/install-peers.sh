#!/usr/bin/env bash
# Installs what the integration tests run for real: mosquitto, OpenSSH sshd, PostgreSQL, Redis, iproute2 (ip, ss), nftables, iptables
# and procps, chromium (headless browser as a WebSocket peer, @keepalive/ws), plus openssl (the tcp tests make a throwaway TLS certificate with it; minimal Debian images lack it), from the distribution's packages (Debian/Ubuntu apt). Installs only what is missing, only as root,
# and says what it found and what it did. Idempotent and quick when everything is there (no apt call at all).
#
# Not root: prints what is missing and the command to install it, and exits 0 — the tests that need it are then
# reported as skipped, or fail under CI=true (test/harness/prerequisites.ts).
#
# Installing must not leave services behind: a policy-rc.d that answers 101 ("action forbidden") keeps the
# packages' maintainer scripts from starting mosquitto or sshd (also in containers without systemd, where starting
# would fail the install), and an sshd or mosquitto that nevertheless starts listening during the install is stopped.
set -euo pipefail

say() { echo "install-peers: $*"; }

# binary → package. sbin directories are searched explicitly: they are not on a normal user's PATH.
declare -A package_of=(
  [mosquitto]=mosquitto
  [sshd]=openssh-server
  [ssh-keygen]=openssh-client
  [ip]=iproute2
  [ss]=iproute2
  [nft]=nftables
  [iptables]=iptables
  [ps]=procps
  [unshare]=util-linux
  [openssl]=openssl
  [chromium]=chromium
  [setpriv]=util-linux
  [postgres]=postgresql
  [redis-server]=redis-server
)
order=(mosquitto sshd ssh-keygen ip ss nft iptables ps unshare openssl chromium setpriv postgres redis-server)

find_binary() {
  local name=$1 dir
  local IFS=:
  # Not `command -v`: bash reports a file that is present but not executable, too.
  # Debian keeps the PostgreSQL server binaries in /usr/lib/postgresql/<major>/bin, outside PATH.
  for dir in $PATH /usr/local/sbin /usr/sbin /sbin /usr/lib/postgresql/*/bin; do
    if [ -n "$dir" ] && [ -f "$dir/$name" ] && [ -x "$dir/$name" ]; then echo "$dir/$name"; return 0; fi
  done
  return 1
}

missing_binaries=()
missing_packages=()
scan() {
  missing_binaries=()
  missing_packages=()
  local name pkg
  for name in "${order[@]}"; do
    if ! find_binary "$name" >/dev/null; then
      missing_binaries+=("$name")
      pkg=${package_of[$name]}
      case " ${missing_packages[*]-} " in *" $pkg "*) ;; *) missing_packages+=("$pkg") ;; esac
    fi
  done
}

versions() {
  local bin
  if bin=$(find_binary mosquitto); then say "  mosquitto: $("$bin" -h 2>/dev/null | head -n 1 || true)"; fi
  if bin=$(find_binary sshd); then say "  sshd:      $("$bin" -V 2>&1 | head -n 1 || true)"; fi
  if bin=$(find_binary postgres); then say "  postgres:  $("$bin" --version 2>&1 | head -n 1)"; fi
  if bin=$(find_binary redis-server); then say "  redis:     $("$bin" --version 2>&1 | head -n 1)"; fi
  if bin=$(find_binary ip); then say "  ip:        $("$bin" -V 2>&1 | head -n 1)"; fi
  if bin=$(find_binary nft); then say "  nft:       $("$bin" --version 2>&1 | head -n 1)"; fi
  if bin=$(find_binary iptables); then say "  iptables:  $("$bin" --version 2>&1 | head -n 1)"; fi
  if bin=$(find_binary chromium); then say "  chromium:  $("$bin" --version 2>/dev/null | head -n 1 || true)"; fi
}

# pids listening on TCP port $1 whose command is $2 (empty when none or when ss is missing).
listeners() {
  local port=$1 command=$2 ss
  ss=$(find_binary ss) || return 0
  "$ss" -Htlnp "sport = :$port" 2>/dev/null | grep -o "\"$command\",pid=[0-9]*" | sed 's/.*pid=//' | sort -u || true
}

scan
if [ ${#missing_binaries[@]} -eq 0 ]; then
  say "everything is installed (${order[*]})"
  versions
  exit 0
fi

say "missing: ${missing_binaries[*]} (packages: ${missing_packages[*]})"

if [ "$(id -u)" -ne 0 ]; then
  say "not running as root: nothing installed. To install:"
  say "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing_packages[*]}"
  say "  (or: sudo bash scripts/install-peers.sh). Tests that need them are skipped, and fail under CI=true."
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  say "no apt-get on this machine: install ${missing_packages[*]} with your package manager."
  # CI must not go on without its peers: a skip there would hide the broken setup.
  [ "${CI:-}" = "true" ] && exit 1
  exit 0
fi

# What already listens before the install is the machine's business and is never touched.
sshd_before=$(listeners 22 sshd)
mosquitto_before=$(listeners 1883 mosquitto)
postgres_before=$(listeners 5432 postgres)
redis_before=$(listeners 6379 redis-server)

policy=/usr/sbin/policy-rc.d
created_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# Written by keepalive scripts/install-peers.sh for the duration of an install.\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  created_policy=true
fi
cleanup_policy() { if [ "$created_policy" = true ]; then rm -f "$policy"; fi; }
trap cleanup_policy EXIT

export DEBIAN_FRONTEND=noninteractive
say "running: apt-get update"
apt-get update -qq
say "running: apt-get install -y --no-install-recommends ${missing_packages[*]}"
apt-get install -y -qq --no-install-recommends "${missing_packages[@]}"

stop_new_listeners() {
  local port=$1 command=$2 before=$3 pid
  for pid in $(listeners "$port" "$command"); do
    if ! grep -qx "$pid" <<<"$before"; then
      say "the install started $command (pid $pid) on port $port: stopping it"
      kill "$pid" 2>/dev/null || true
    fi
  done
}
stop_new_listeners 22 sshd "$sshd_before"
stop_new_listeners 1883 mosquitto "$mosquitto_before"
stop_new_listeners 5432 postgres "$postgres_before"
stop_new_listeners 6379 redis-server "$redis_before"
# With systemd, keep the units from starting at the next boot only if this script installed them.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  for pkg in "${missing_packages[@]}"; do
    case $pkg in
      openssh-server) systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true ;;
      mosquitto) systemctl disable --now mosquitto.service >/dev/null 2>&1 || true ;;
      postgresql) systemctl disable --now postgresql.service >/dev/null 2>&1 || true ;;
      redis-server) systemctl disable --now redis-server.service >/dev/null 2>&1 || true ;;
    esac
  done
fi

scan
if [ ${#missing_binaries[@]} -gt 0 ]; then
  say "still missing after the install: ${missing_binaries[*]}"
  exit 1
fi
say "installed ${missing_packages[*]}; everything is there now:"
versions
