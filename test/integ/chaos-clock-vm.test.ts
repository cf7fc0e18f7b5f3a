/**
 * The chaos suite's wall-clock step (see chaos.test.ts, which cannot step CLOCK_REALTIME on the
 * host: it has no namespace). In the project's VM (scripts/vm-run) two real tsbeat daemons in two
 * network namespaces, one group on node1, and the VM's wall clock stepped one hour forward, then
 * two hours back (test/integ/vm/clock-step.sh). Both daemons share the kernel, so both nodes see
 * the same step, as an NTP step or `date -s` on a whole cluster does. Expected: nobody is declared
 * dead, the group never moves and never runs twice, both still see each other active; and after
 * both steps the timers still work: SIGKILL of node1 gives node2 the group after deadtime (6 s),
 * not at once and not never.
 * The VM must be able to run here (scripts/install-deps.sh); TSBEAT_NO_VM=1 skips.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../support/cli.js';
import { runInVm, vmUnavailable } from '../support/vm.js';

const results = new Map<string, string>();
let output = '';
const skip = process.env['TSBEAT_NO_VM'] === '1';

beforeAll(async () => {
  if (skip) return;
  const why = await vmUnavailable();
  if (why !== undefined) throw new Error(`the VM cannot run here: ${why}`);
  const repo = REPO.replace(/\/$/, '');
  const r = await runInVm(`bash ${repo}/test/integ/vm/clock-step.sh ${repo}`, { timeoutS: 400 });
  output = `${r.stdout}\n--- stderr ---\n${r.stderr}`;
  if (r.code !== 0 || !r.stdout.includes('\nDONE'))
    throw new Error(`VM run failed (exit ${r.code}):\n${output}`);
  for (const line of r.stdout.split('\n')) {
    const m = /^RESULT (\S+) ?(.*)$/.exec(line);
    if (m?.[1] !== undefined) results.set(m[1], m[2] ?? '');
  }
}, 460_000);

const result = (name: string): string | undefined => results.get(name);

describe.skipIf(skip)("wall-clock step under two real daemons (VM: the kernel is the test's own)", () => {
  it('the cluster forms with the group on node1', () => {
    expect(result('formed_owner'), output).toBe('node1');
    expect(result('formed_deaths'), output).toBe('0');
  });

  it('one hour forward: nobody declared dead, the group stays on node1 only, both active', () => {
    expect(result('forward_owners'), output).toBe('node1');
    expect(result('forward_deaths'), output).toBe('0');
    expect(result('forward_status'), output).toBe('active/active');
  });

  it('two hours back: nobody declared dead, the group stays on node1 only, both active', () => {
    expect(result('backward_owners'), output).toBe('node1');
    expect(result('backward_deaths'), output).toBe('0');
    expect(result('backward_status'), output).toBe('active/active');
  });

  it('after both steps a crash still fails over after deadtime, not at once and not never', () => {
    const s = Number(result('takeover_after_steps_s'));
    expect(Number.isFinite(s), output).toBe(true);
    // Silence is counted from the last heartbeat (up to keepalive 1 s before the kill): ≥ 5 s.
    expect(s, output).toBeGreaterThanOrEqual(5);
    // deadtime 6 s plus the resource start under TCG emulation (5-20x slower than the host).
    expect(s, output).toBeLessThanOrEqual(30);
    expect(result('final_deaths'), output).toBe('1');
  });
});
