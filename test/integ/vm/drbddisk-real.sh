#!/bin/bash
# Runs inside the project's VM (scripts/vm-run): tsbeat's drbddisk (heartbeat style and OCF) and
# Filesystem against real DRBD 8.4 (the steps: drbddisk-steps.mjs). One kernel, two DRBD resources that are each other's peer
# over loopback (the recipe of shared/lab/kernel-vm/examples/drbd-role.sh): r0 = /dev/drbd0
# ("this node"), r1 = /dev/drbd1 ("the peer"). Each check prints one line "RESULT name value";
# test/integ/agents-drbd-vm.test.ts asserts on them. Called with the checkout as $1.
set -u
repo=$1
cd "$repo" || exit 2
HB=$repo/resource.d/drbddisk
OCF=$repo/ocf/drbddisk
FS=$repo/ocf/Filesystem
export HA_RSCTMP=/run/resource-agents OCF_ROOT=/usr/lib/ocf
mkdir -p $HA_RSCTMP
result() { echo "RESULT $1 $2"; }
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

modprobe drbd && modprobe loop || { echo "no drbd/loop module"; exit 3; }
result drbd_version "$(sed -n '1s/^version: \([0-9.]*\).*/\1/p' /proc/drbd)"
for i in 0 1; do truncate -s 16M /tmp/disk$i.img && losetup /dev/loop$i /tmp/disk$i.img; done
conf() {
  cat <<EOF
global { usage-count no; }
resource $1 {
  protocol C;
  device /dev/drbd$2; disk /dev/loop$2; meta-disk internal;
  disk { resync-rate 100M; c-plan-ahead 0; }
  on $(uname -n) { address $3; }
  on peer { address $4; }
}
EOF
}
ip addr add 127.0.0.2/8 dev lo
conf r0 0 127.0.0.1:7788 127.0.0.2:7789 >/etc/drbd-a.conf
conf r1 1 127.0.0.2:7789 127.0.0.1:7788 >/etc/drbd-b.conf
# One drbdadm per "node" (its own configuration file); each logs its calls and exit codes.
drbdadm=$(command -v drbdadm)
for n in a b; do
  cat >/tmp/drbdadm-$n <<EOF
#!/bin/bash
$drbdadm -c /etc/drbd-$n.conf "\$@"
rc=\$?
echo "\$EPOCHREALTIME \$* -> \$rc" >>/tmp/calls-$n.log
exit \$rc
EOF
  chmod 755 /tmp/drbdadm-$n
done
wait_for() { local t=$1; shift; for _ in $(seq $((t * 5))); do "$@" && return 0; sleep 0.2; done; return 1; }
/tmp/drbdadm-a create-md --force r0 >/dev/null 2>&1; /tmp/drbdadm-a up r0
/tmp/drbdadm-b create-md --force r1 >/dev/null 2>&1; /tmp/drbdadm-b up r1
wait_for 30 sh -c '[ "$(/tmp/drbdadm-a cstate r0)" = Connected ]' || { echo "r0 and r1 did not connect"; exit 4; }
/tmp/drbdadm-a primary --force r0
wait_for 90 sh -c '[ "$(/tmp/drbdadm-a dstate r0)" = UpToDate/UpToDate ]' || { echo "no initial sync"; exit 5; }
mkfs.ext4 -q /dev/drbd0
/tmp/drbdadm-a secondary r0
: >/tmp/calls-a.log; : >/tmp/calls-b.log

# heartbeat style: the node's drbdadm comes from /etc/default/drbd, as for the stock script.
mkdir -p /etc/default && echo "DRBDADM=/tmp/drbdadm-a" >/etc/default/drbd
# The executables once each (node starts slowly under emulation: a few seconds per run) ...
out=$($HB r0 status); result hb_status_secondary "$? $out"
env OCF_RESOURCE_INSTANCE=d0 OCF_RESKEY_drbd_resource=r0 OCF_RESKEY_drbdadm=/tmp/drbdadm-a $OCF monitor
result ocf_exe_monitor_secondary $?
# ... then every other step in one node process, through the same dispatcher (builtin.js).
node "$repo/test/integ/vm/drbddisk-steps.mjs" "$repo"
/tmp/drbdadm-a down r0
echo DONE
