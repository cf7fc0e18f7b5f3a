/**
 * Two tsbeat directors move `IPaddr2::VIP/24/eth0 LVSSyncDaemonSwap::master::eth0::7
 * ldirectord::ldirectord.cf` on a crash and back, against REAL kernel IPVS and the kernel's real
 * sync daemons, in the project's VM (scripts/vm-run: Debian 12's kernel with ip_vs; this host's
 * kernel has none). One boot runs test/integ/vm/director-pair.sh: each director is a "machine"
 * (its own network, mount and PID namespace, private /run) running `tsbeat start`; LVS direct
 * routing to two node HTTP real servers that hold the VIP on lo; a client on the same LAN.
 * It proves that:
 *  - node1 holds the VIP, runs the master sync daemon and the director's IPVS table, while node2
 *    runs only the backup sync daemon, with no VIP and no virtual service; the client is
 *    answered by both real servers through node1;
 *  - node2's backup daemon receives the client's connection from node1's master (`ipvsadm
 *    -Lnc` on node2 shows it);
 *  - after SIGKILL of node1's daemon, node2 fences node1 (an external STONITH plugin whose power
 *    switch resets the machine: every process dies, the namespace comes back empty) before it
 *    takes the VIP, then holds the VIP, the master sync daemon and the same table, and the
 *    client is answered by both real servers through node2;
 *  - when node1 is started again, the group fails back: master and table on node1 again, node2
 *    back to a backup daemon with its virtual service removed (cleanstop).
 * The operator's boot step starts the backup sync daemon on each machine before tsbeat, as the
 * LVS recipe does (LVSSyncDaemonSwap only swaps roles on takeover and release).
 * Measured and printed, not asserted: whether the client's keep-alive connection survives the
 * failover (`connection_after_failover=`). In the runs made while writing this test it did not
 * (reset or timed out) although node2 held the synced entry after takeover; the cause is not yet
 * known (src/director/README.md). IPaddr2's gratuitous ARP did not update the client in the
 * guest (whose arping is busybox's, not iputils'), so the script prints the client's ARP entry
 * after takeover and then drops it.
 */
import { expect, it } from 'vitest';
import { REPO } from '../support/cli.js';
import { runInVm, vmUnavailable } from '../support/vm.js';

const STEPS = [
  'node1 holds the group: VIP, master sync daemon, director table; node2 a backup',
  'client answered through node1 by rs1 and rs2',
  "node2's backup sync daemon holds the client's connection",
  'node2 fenced node1 before taking the VIP',
  'node2 holds the group: VIP, master sync daemon, director table',
  'client answered through node2 by rs1 and rs2',
  'failback: node1 holds the group again, master; node2 backup, no VIP, no virtual service',
  'client answered through node1 by rs1 and rs2 after failback',
];

it.skipIf(process.env['TSBEAT_NO_VM'] === '1')(
  'two tsbeat directors (real IPVS and sync daemons): the group moves on SIGKILL after fencing and back; the sync role follows',
  async () => {
    const why = await vmUnavailable();
    expect(why, `the VM cannot run here: ${why}`).toBeUndefined();
    const r = await runInVm(`bash ${REPO}test/integ/vm/director-pair.sh ${REPO}`, { timeoutS: 560 });
    const ok = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('OK '))
      .map((l) => l.slice(3));
    expect(ok, `${r.stdout}\n${r.stderr.slice(-3000)}`).toEqual(STEPS);
    expect(r.code).toBe(0);
    for (const m of r.stdout.matchAll(
      /^(takeover_ms|client_arp_after_takeover|client_arp_after_failback|synced_entry_after_takeover|connection_after_failover)=.*$/gm,
    ))
      process.stdout.write(`director-pair: ${m[0]}\n`);
  },
  600_000,
);
