#!/bin/bash
# Runs inside the project's VM (scripts/vm-run): tsbeat's drbddisk (heartbeat style and OCF) and
# Filesystem against real DRBD 8.4. One kernel, two DRBD resources that are each other's peer
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
for i in 0 1; do truncate -s 32M /tmp/disk$i.img && losetup /dev/loop$i /tmp/disk$i.img; done
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
out=$($HB r0 status); result hb_status_secondary "$? $out"
t=$(now); out=$($HB r0 start 2>&1); rc=$?
result hb_start "$rc $(elapsed "$t")"
result role_after_start "$(/tmp/drbdadm-a role r0)"
out=$($HB r0 status); result hb_status_primary "$? $out"
out=$($HB status); result hb_status_all "$? $out"

# The peer cannot be promoted while r0 is Primary: 6 attempts 1 s apart, then exit 1.
t=$(now); OCF_RESKEY_drbdadm=/tmp/drbdadm-b $HB r1 start >/tmp/refused.out 2>&1; rc=$?
result hb_refused "$rc $(elapsed "$t")"
result hb_refused_attempts "$(grep -c ' primary r1 -> ' /tmp/calls-b.log)"
result hb_refused_drbdadm_rc "$(grep ' primary r1 -> ' /tmp/calls-b.log | sed 's/.* -> //' | sort -u | tr '\n' ' ')"
: >/tmp/calls-b.log
t=$(now); env OCF_RESOURCE_INSTANCE=d1 OCF_RESKEY_drbd_resource=r1 OCF_RESKEY_drbdadm=/tmp/drbdadm-b $OCF start 2>/tmp/ocf-refused.err; rc=$?
result ocf_refused "$rc $(elapsed "$t")"
result ocf_refused_reason "$(grep -c '^ocf-exit-reason:drbdadm primary r1 failed 6 times' /tmp/ocf-refused.err)"
: >/tmp/calls-b.log

# A Filesystem on the DRBD device, every monitor depth.
mkdir -p /srv/r0
fsenv=(OCF_RESOURCE_INSTANCE=fs0 OCF_RESKEY_device=/dev/drbd0 OCF_RESKEY_directory=/srv/r0 OCF_RESKEY_fstype=ext4)
env "${fsenv[@]}" $FS start; result fs_start $?
for l in 0 10 20; do env "${fsenv[@]}" OCF_CHECK_LEVEL=$l $FS monitor; result fs_monitor_$l $?; done
echo "written on r0" >/srv/r0/proof.txt
# Demoting r0 while it is mounted: DRBD refuses (device held open), 3 attempts, exit 1.
t=$(now); $HB r0 stop >/tmp/busy.out 2>&1; rc=$?
result hb_stop_busy "$rc $(elapsed "$t")"
result hb_stop_busy_attempts "$(grep -c ' secondary r0 -> ' /tmp/calls-a.log)"
out=$($HB r0 status); result hb_status_still_primary "$? $out"
env "${fsenv[@]}" $FS stop; result fs_stop $?
env "${fsenv[@]}" $FS monitor; result fs_monitor_after_stop $?
$HB r0 stop >/dev/null 2>&1; result hb_stop "$?"
$HB r0 stop >/dev/null 2>&1; result hb_stop_again "$?"
result role_after_stop "$(/tmp/drbdadm-a role r0)"

# Failover: the peer (OCF form) is promoted now and sees the data.
ocfb=(OCF_RESOURCE_INSTANCE=d1 OCF_RESKEY_drbd_resource=r1 OCF_RESKEY_drbdadm=/tmp/drbdadm-b)
env "${ocfb[@]}" $OCF monitor; result ocf_monitor_secondary $?
env "${ocfb[@]}" $OCF start; result ocf_start $?
env "${ocfb[@]}" $OCF monitor; result ocf_monitor_primary $?
mkdir -p /srv/r1
env OCF_RESOURCE_INSTANCE=fs1 OCF_RESKEY_device=/dev/drbd1 OCF_RESKEY_directory=/srv/r1 OCF_RESKEY_fstype=ext4 $FS start
result fs_peer_start $?
result replicated "$(cat /srv/r1/proof.txt 2>&1)"
env OCF_RESOURCE_INSTANCE=fs1 OCF_RESKEY_device=/dev/drbd1 OCF_RESKEY_directory=/srv/r1 OCF_RESKEY_fstype=ext4 $FS stop
result fs_peer_stop $?
env "${ocfb[@]}" $OCF stop; result ocf_stop $?
env "${ocfb[@]}" $OCF monitor; result ocf_monitor_after_stop $?

# A resource that is down: Unconfigured, which is "stopped"; stopping it succeeds.
/tmp/drbdadm-b down r1
out=$(OCF_RESKEY_drbdadm=/tmp/drbdadm-b $HB r1 status); result hb_status_down "$? $out"
env "${ocfb[@]}" $OCF monitor; result ocf_monitor_down $?
env "${ocfb[@]}" $OCF stop; result ocf_stop_down $?
/tmp/drbdadm-a down r0
echo DONE
