/**
 * tsbeat director against REAL kernel IPVS, in the project's VM (scripts/vm-run boots Debian
 * 12's kernel with ip_vs; this host's kernel has none). One boot runs the whole scenario of
 * test/integ/vm/director-ipvs.sh: NAT mode, node HTTP real servers in namespaces, a client
 * sending requests to the VIP; a real server that stops answering is quiesced within
 * checkinterval × failurecount + checktimeout, comes back when it answers, the fallback serves
 * when all are down, a hand-deleted real is repaired, another service in the table is never
 * touched, LVSSyncDaemonSwap moves the sync daemon master ↔ backup, and status --json shows it.
 */
import { expect, it } from 'vitest';
import { REPO } from '../support/cli.js';
import { runInVm, vmUnavailable } from '../support/vm.js';

const STEPS = [
  'started',
  'table: rs1 1, rs2 1, no fallback',
  'client answered by rs1 and rs2',
  'table: rs1 1, rs2 0 (quiescent)',
  'client answered by rs1 only',
  'table: rs2 back at 1',
  'table: rs1 0, rs2 0, fallback 1',
  'client answered by the fallback',
  'table: rs1 1, fallback removed',
  'reconcile re-added a hand-deleted real',
  'LVSSyncDaemonSwap start: master sync daemon',
  'status --json: checks, latency, reason, sync role',
  'LVSSyncDaemonSwap stop: backup sync daemon',
  'stop: own service removed, foreign one kept',
];

it.skipIf(process.env['TSBEAT_NO_VM'] === '1')(
  'real IPVS: checks quiesce, re-add and fall back; the table matches the configuration at each step',
  async () => {
    const why = await vmUnavailable();
    expect(why, `the VM cannot run here: ${why}`).toBeUndefined();
    const r = await runInVm(`bash ${REPO}test/integ/vm/director-ipvs.sh ${REPO}`, { timeoutS: 420 });
    const ok = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('OK '))
      .map((l) => l.slice(3));
    expect(ok, `${r.stdout}\n${r.stderr.slice(-3000)}`).toEqual(STEPS);
    expect(r.code).toBe(0);
    // checkinterval 1 s × failurecount 2 + checktimeout 2 s = 4 s.
    const removal = Number(/removal_ms=(\d+)/.exec(r.stdout)?.[1]);
    expect(removal).toBeLessThanOrEqual(4000);
  },
  480_000,
);
