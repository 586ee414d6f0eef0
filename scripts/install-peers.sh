#!/usr/bin/env bash
# PLACEHOLDER — owned by the harness helper: installs mosquitto, openssh-server, iproute2, nftables when missing and root.
exit 0
