#!/usr/bin/env bash
# Installs the system packages tsbeat's tests use on Debian 12 (as root): the real
# heartbeat 3.0.6 and friends as reference peers, and the network tools the agents drive.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: run as root (sudo bash scripts/install-deps.sh)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Package scripts must never start services (heartbeat, corosync!) on this machine.
# corosync and crmsh are here for `corosync -t` and `crm configure load`, the checks of what
# `tsbeat export pacemaker` writes.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
fi
apt-get update
apt-get install -y --no-install-recommends \
  heartbeat resource-agents cluster-glue pacemaker-cli-utils \
  corosync crmsh \
  socat iproute2 iputils-arping iputils-ping tcpdump \
  man-db groff-base procps psmisc util-linux e2fsprogs kmod nftables
# The Debian package's test (test/integ/package.test.ts) builds its clean root from installed
# packages: systemd (systemd-analyze verify), man-db (the unit's man pages), logrotate (the
# package's rotation file), and dpkg-deb, zstd to build it.
apt-get install -y --no-install-recommends systemd logrotate dpkg zstd
# The reference LVS director the director's command stream and bench are compared with (its
# service is never started: policy-rc.d above).
apt-get install -y --no-install-recommends ldirectord
# keepalived: the VRRP peer `npm run bench -- failover` measures tsbeat against. The bench runs
# the binary itself inside namespaces; its service is never started (policy-rc.d above).
apt-get install -y --no-install-recommends keepalived
# The project's qemu VM (scripts/vm-run) for what this host's kernel lacks (IPVS, DRBD 8.4,
# netem): qemu with software emulation, and the tools copied into the guest.
apt-get install -y --no-install-recommends \
  qemu-system-x86 busybox-static xz-utils ipvsadm drbd-utils
# Prometheus for the metrics tests: promtool checks the exposition, and the test runs the
# prometheus binary itself inside a namespace (the packaged service never starts: policy-rc.d).
apt-get install -y --no-install-recommends prometheus
# LXC for the lxc agent's tests (a busybox container; LXC runs here with cgroup v1 and no
# systemd as PID 1, unlike podman's and systemd-nspawn's packages, see src/agents/README.md).
apt-get install -y --no-install-recommends lxc
# Download the guest kernel and build its image now, so that no test pays for it.
bash "$(dirname "$0")/vm-run" --prepare
