#!/bin/bash
# Runs inside scripts/vm-run (Debian 12 kernel with ip_vs): tsbeat director against REAL kernel
# IPVS in NAT mode, with node HTTP real servers in namespaces (recipe of the kernel lab's
# examples/ipvs-http.sh). Prints "OK <step>" lines and "removal_ms=<n>"; exits non-zero on the
# first failed step. Driven by test/integ/director-ipvs-vm.test.ts.
set -uo pipefail
repo=$1
VIP=10.0.1.100
ns() { ip netns exec "$@"; }
fail() { echo "FAIL $*"; ns director ipvsadm -Ln; cat /tmp/director.log 2>/dev/null | tail -30; exit 1; }
modprobe ip_vs; modprobe ip_vs_rr
for n in client director rs1 rs2 sorry; do ip netns add $n; ns $n ip link set lo up; done
ip link add c0 netns client type veth peer name d0 netns director
ns client ip addr add 10.0.1.2/24 dev c0; ns client ip link set c0 up; ns client ip route add default via 10.0.1.1
ns director ip addr add 10.0.1.1/24 dev d0; ns director ip addr add $VIP/24 dev d0; ns director ip link set d0 up
ns director ip link add br0 type bridge; ns director ip addr add 10.0.2.1/24 dev br0; ns director ip link set br0 up
for n in rs1:10.0.2.11 rs2:10.0.2.12 sorry:10.0.2.13; do
  name=${n%%:*} addr=${n#*:}
  ip link add e0 netns $name type veth peer name p-$name netns director
  ns director ip link set p-$name master br0 up
  ns $name ip addr add $addr/24 dev e0; ns $name ip link set e0 up; ns $name ip route add default via 10.0.2.1
done
ns director sysctl -qw net.ipv4.ip_forward=1

declare -A PID
serve() { # name answer
  ip netns exec $1 node -e "require('node:http').createServer((q, s) => s.end(q.url === '/test.html' ? 'OK $2\n' : '$2\n')).listen(80)" &
  PID[$1]=$!
  for i in $(seq 100); do ns director bash -c "exec 3<>/dev/tcp/${3}/80" 2>/dev/null && return 0; sleep 0.1; done
  fail "server $1 did not start"
}
serve rs1 rs1 10.0.2.11; serve rs2 rs2 10.0.2.12; serve sorry sorry 10.0.2.13

cat > /tmp/ld.cf <<CF
checktimeout=2
checkinterval=1
failurecount=2
logfile="/tmp/director.log"
quiescent=yes

virtual=$VIP:80
	real=10.0.2.11:80 masq
	real=10.0.2.12:80 masq
	fallback=10.0.2.13:80 masq
	service=http
	request="test.html"
	receive="OK"
	scheduler=rr
	protocol=tcp
	checktype=negotiate
CF

requests() { # prints a sorted histogram of 8 answers from the client
  ns client node -e "
    const http = require('node:http'); const seen = {};
    (async () => { for (let i = 0; i < 8; i++) {
      const b = await new Promise((ok) => http.get({host: '$VIP', path: '/', agent: false, timeout: 3000},
        r => { let d = ''; r.on('data', c => d += c); r.on('end', () => ok(d.trim())); }).on('error', e => ok('error')).on('timeout', function () { this.destroy(); }));
      seen[b] = (seen[b] || 0) + 1; }
      console.log(Object.keys(seen).sort().join(','));
    })();"
}
now_ms() { local up _; read -r up _ < /proc/uptime; echo $(( ${up/./} * 10 )); }  # busybox date has no %N
weight() { ns director ipvsadm -Ln | awk -v r="$1" '$2 == r { print $4 }'; }
waitfor() { # description, condition (bash), timeout s
  local end=$(( $(date +%s) + $3 ))
  until eval "$2"; do [ "$(date +%s)" -lt $end ] || fail "$1"; sleep 0.1; done
}
export TSBEAT_DIRECTOR_RUNDIR=/tmp/run
ns director node $repo/dist/cli/tsbeat.js director /tmp/ld.cf start || fail "director start"
echo "OK started"
waitfor "both reals up" '[ "$(weight 10.0.2.11:80)" = 1 ] && [ "$(weight 10.0.2.12:80)" = 1 ]' 60
[ -z "$(weight 10.0.2.13:80)" ] || fail "fallback still in with reals up"
echo "OK table: rs1 1, rs2 1, no fallback"
[ "$(requests)" = "rs1,rs2" ] || fail "answers with both up: $(requests)"
echo "OK client answered by rs1 and rs2"

t0=$(now_ms); kill ${PID[rs2]}; wait ${PID[rs2]} 2>/dev/null
waitfor "rs2 quiesced" '[ "$(weight 10.0.2.12:80)" = 0 ]' 60
t1=$(now_ms); echo "removal_ms=$(( t1 - t0 ))"
[ "$(weight 10.0.2.11:80)" = 1 ] || fail "rs1 not 1"
echo "OK table: rs1 1, rs2 0 (quiescent)"
[ "$(requests)" = "rs1" ] || fail "answers with rs2 down: $(requests)"
echo "OK client answered by rs1 only"

serve rs2 rs2 10.0.2.12
waitfor "rs2 re-added" '[ "$(weight 10.0.2.12:80)" = 1 ]' 60
echo "OK table: rs2 back at 1"

kill ${PID[rs1]} ${PID[rs2]}; wait ${PID[rs1]} ${PID[rs2]} 2>/dev/null
waitfor "fallback in" '[ "$(weight 10.0.2.13:80)" = 1 ] && [ "$(weight 10.0.2.11:80)" = 0 ] && [ "$(weight 10.0.2.12:80)" = 0 ]' 60
echo "OK table: rs1 0, rs2 0, fallback 1"
[ "$(requests)" = "sorry" ] || fail "answers with all down: $(requests)"
echo "OK client answered by the fallback"
serve rs1 rs1 10.0.2.11
waitfor "fallback out" '[ -z "$(weight 10.0.2.13:80)" ] && [ "$(weight 10.0.2.11:80)" = 1 ]' 60
echo "OK table: rs1 1, fallback removed"

# Someone else's service in the same kernel table is never touched; a hand-deleted real is repaired.
ns director ipvsadm -A -t 10.0.1.200:443 -s wlc
ns director ipvsadm -d -t $VIP:80 -r 10.0.2.11:80
waitfor "reconciled" '[ "$(weight 10.0.2.11:80)" = 1 ]' 30
echo "OK reconcile re-added a hand-deleted real"

# The sync daemon follows the agent: master on start, back to backup on stop.
HA_RSCTMP=/tmp ns director $repo/resource.d/LVSSyncDaemonSwap master d0 7 start >/dev/null || fail "LVSSyncDaemonSwap start"
ns director ipvsadm -L --daemon | grep -q "master sync daemon (mcast=d0, syncid=7" || fail "no master daemon"
echo "OK LVSSyncDaemonSwap start: master sync daemon"

ns director node $repo/dist/cli/tsbeat.js director /tmp/ld.cf status --json > /tmp/status.json || fail "status"
node -e "
const s = require('/tmp/status.json'); const v = s.virtuals[0];
const r = Object.fromEntries(v.reals.map(x => [x.addr, x]));
if (s.daemon !== 'running' || !v.inKernel) throw new Error('not running');
if (r['10.0.2.11:80'].check !== 'up' || r['10.0.2.12:80'].check !== 'down') throw new Error(JSON.stringify(r));
if (!(r['10.0.2.11:80'].lastLatencyMs >= 0)) throw new Error('no latency');
if (!/ECONNREFUSED|timed out|no answer/.test(r['10.0.2.12:80'].lastReason)) throw new Error('reason ' + r['10.0.2.12:80'].lastReason);
if (s.syncDaemons[0]?.role !== 'master') throw new Error('sync ' + JSON.stringify(s.syncDaemons));
if (!(r['10.0.2.11:80'].inactConn + r['10.0.2.11:80'].activeConn >= 0)) throw new Error('conns');
" || fail "status --json content: $(cat /tmp/status.json)"
echo "OK status --json: checks, latency, reason, sync role"
ns director node $repo/dist/cli/tsbeat.js director /tmp/ld.cf status | sed 's/^/status| /'

HA_RSCTMP=/tmp ns director $repo/resource.d/LVSSyncDaemonSwap master d0 7 stop >/dev/null || fail "LVSSyncDaemonSwap stop"
ns director ipvsadm -L --daemon | grep -q "backup sync daemon (mcast=d0, syncid=7" || fail "no backup daemon"
ns director ipvsadm -L --daemon | grep -q master && fail "master still running"
echo "OK LVSSyncDaemonSwap stop: backup sync daemon"

ns director node $repo/dist/cli/tsbeat.js director /tmp/ld.cf stop || fail "director stop"
ns director ipvsadm -Ln | grep -q "$VIP:80" && fail "virtual left after cleanstop"
ns director ipvsadm -Ln | grep -q "10.0.1.200:443" || fail "foreign service was removed"
echo "OK stop: own service removed, foreign one kept"
kill $(jobs -p) 2>/dev/null
exit 0
