#!/bin/bash
# Runs inside the project's VM (scripts/vm-run): the chaos suite's wall-clock step against two
# real tsbeat daemons. CLOCK_REALTIME has no namespace, so on the host a step would hit every
# other test; the VM's kernel is ours alone. Both daemons share that kernel, so a step hits both
# nodes at once — the case an NTP step or an operator's `date -s` on a cluster produces.
# Two network namespaces joined by a veth pair, ucast both ways, one group (a state-file resource)
# on node1. Each check prints "RESULT name value"; test/integ/chaos-clock-vm.test.ts asserts on
# them. Called with the checkout as $1.
set -u
repo=$1
cd "$repo" || exit 2
TSBEAT="node $repo/dist/cli/tsbeat.js"
result() { echo "RESULT $1 $2"; }
# Monotonic seconds (the wall clock is what this script steps).
mono() { cut -d' ' -f1 /proc/uptime; }
wait_for() { local t=$1; shift; for _ in $(seq $((t * 5))); do "$@" && return 0; sleep 0.2; done; return 1; }

ip netns add c1 && ip netns add c2 || exit 3
ip link add v1 type veth peer name v2 || exit 3
ip link set v1 netns c1 && ip link set v2 netns c2
ip -n c1 addr add 10.98.0.1/24 dev v1 && ip -n c2 addr add 10.98.0.2/24 dev v2
for n in 1 2; do ip -n c$n link set lo up && ip -n c$n link set v$n up; done

for n in 1 2; do
  d=/tmp/c$n
  mkdir -p $d/ha.d/resource.d $d/run $d/state
  peer=10.98.0.$((3 - n))
  cat >$d/ha.d/ha.cf <<EOF
logfile $d/ha-log
keepalive 1
warntime 3
deadtime 6
initdead 12
udpport 694
ucast v$n $peer
node node1
node node2
auto_failback on
crm off
EOF
  printf 'auth 1\n1 sha1 clock-step-test\n' >$d/ha.d/authkeys
  chmod 600 $d/ha.d/authkeys
  echo "node1 ClockRes" >$d/ha.d/haresources
  cat >$d/ha.d/resource.d/ClockRes <<EOF
#!/bin/sh
case \$1 in
  start) touch $d/running; echo "\$(cut -d' ' -f1 /proc/uptime) start" >>$d/res.log; exit 0;;
  stop) rm -f $d/running; echo "\$(cut -d' ' -f1 /proc/uptime) stop" >>$d/res.log; exit 0;;
  status) if [ -f $d/running ]; then echo running; exit 0; else echo stopped; exit 3; fi;;
esac
exit 2
EOF
  chmod 755 $d/ha.d/resource.d/ClockRes
done

start_node() {
  TSBEAT_RUNDIR=/tmp/c$1/run TSBEAT_STATEDIR=/tmp/c$1/state \
    ip netns exec c$1 $TSBEAT start -f -c /tmp/c$1/ha.d --node node$1 >/tmp/c$1/out 2>&1 &
  echo $! >/tmp/c$1/pid
}
status_of() {
  TSBEAT_RUNDIR=/tmp/c$1/run timeout 10 node "$repo/dist/cli/cl_status.js" nodestatus "$2" 2>/dev/null
}
deaths() { cat /tmp/c1/ha-log /tmp/c2/ha-log 2>/dev/null | grep -c 'is dead'; }
# Where the group runs: "node1", "node2", "both" or "none".
owner() {
  local a=0 b=0
  [ -f /tmp/c1/running ] && a=1
  [ -f /tmp/c2/running ] && b=1
  case $a$b in 10) echo node1;; 01) echo node2;; 11) echo both;; *) echo none;; esac
}
# Samples the owner every 0.2 s for $1 seconds; prints every distinct owner seen.
watch_owner() {
  local seen=""
  for _ in $(seq $(($1 * 5))); do
    local o; o=$(owner)
    case " $seen " in *" $o "*) ;; *) seen="$seen $o";; esac
    sleep 0.2
  done
  echo "${seen# }" | tr ' ' ','
}

start_node 1; start_node 2
formed() { [ "$(status_of 1 node2)" = active ] && [ -f /tmp/c1/running ]; }
if ! wait_for 90 formed; then
  echo "cluster did not form"; tail -20 /tmp/c1/ha-log /tmp/c2/ha-log /tmp/c1/out /tmp/c2/out; exit 4
fi
sleep 3
result formed_owner "$(owner)"
result formed_deaths "$(deaths)"

# Forward step of one hour: heartbeats carry the sender's wall-clock time; nothing may be lost.
date -s "@$(($(date +%s) + 3600))" >/dev/null
result forward_owners "$(watch_owner 15)"
result forward_deaths "$(deaths)"
result forward_status "$(status_of 1 node2)/$(status_of 2 node1)"

# Backward step of two hours (one hour before the start): the case that breaks wall-clock timers.
date -s "@$(($(date +%s) - 7200))" >/dev/null
result backward_owners "$(watch_owner 15)"
result backward_deaths "$(deaths)"
result backward_status "$(status_of 1 node2)/$(status_of 2 node1)"

# After both steps the timers still work: node1's daemon crashes, node2 takes over after deadtime.
t0=$(mono)
kill -9 "$(cat /tmp/c1/pid)"
rm -f /tmp/c1/running   # the crashed machine's resources are gone with it
if wait_for 60 test -f /tmp/c2/running; then
  result takeover_after_steps_s "$(awk -v a="$t0" -v b="$(mono)" 'BEGIN { printf "%.1f", b - a }')"
else
  result takeover_after_steps_s none
fi
result final_deaths "$(deaths)"
kill "$(cat /tmp/c2/pid)" 2>/dev/null
wait_for 20 sh -c "! kill -0 $(cat /tmp/c2/pid) 2>/dev/null"
echo DONE
echo "--- node1 log"; grep -E 'dead|WARN|ERROR|CRIT|clock|time' /tmp/c1/ha-log | tail -15
echo "--- node2 log"; grep -E 'dead|WARN|ERROR|CRIT|clock|time' /tmp/c2/ha-log | tail -15
exit 0
