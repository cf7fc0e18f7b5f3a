// drbddisk against real DRBD 8.4, in the project's VM (scripts/vm-run: a Debian 12 kernel with
// the drbd module; this host's kernel has none). One boot runs test/integ/vm/drbddisk-real.sh:
// two DRBD resources replicating to each other over loopback in one kernel (r0 = "this node",
// r1 = "the peer"). It proves, with the real module and drbdadm: heartbeat-style status words
// and codes (stopped (Secondary) 3, running (Primary) 0, stopped (Unconfigured) 3, "all" 10);
// promote and demote; a promotion DRBD refuses because the peer is Primary is tried 6 times 1 s
// apart and ends with exit 1 (OCF form: rc 1 and an exit reason); a demotion DRBD refuses
// because the device is mounted is tried 3 times and ends with exit 1 while the role stays
// Primary; tsbeat's Filesystem on /dev/drbd0 passes monitor depths 0/10/20; and after a
// failover the peer (OCF form) is promoted and reads what was written on r0.
// The executables run once each; the other steps run in one node process through
// dist/agents/builtin.js (the daemon's in-process entry, same dispatcher), because every node
// start costs seconds under emulation.
// The VM must be able to run here (scripts/install-deps.sh); TSBEAT_NO_VM=1 skips.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  const r = await runInVm(`bash ${repo}/test/integ/vm/drbddisk-real.sh ${repo}`, { timeoutS: 500 });
  output = `${r.stdout}\n--- stderr ---\n${r.stderr}`;
  if (r.code !== 0 || !r.stdout.includes('\nDONE'))
    throw new Error(`VM run failed (exit ${r.code}):\n${output}`);
  for (const line of r.stdout.split('\n')) {
    const m = /^RESULT (\S+) ?(.*)$/.exec(line);
    if (m?.[1] !== undefined) results.set(m[1], m[2] ?? '');
  }
}, 560_000);

afterAll(() => {
  results.clear();
});

/** "rc seconds" → [rc, seconds]. */
function timed(name: string): [number, number] {
  const [rc, s] = (results.get(name) ?? '').split(' ');
  return [Number(rc), Number(s)];
}

describe.skipIf(skip)('drbddisk on real DRBD 8.4 (VM)', () => {
  it('runs against the 8.4 module', () => {
    expect(results.get('drbd_version'), output).toMatch(/^8\.4\.\d+$/);
  });

  it('heartbeat style: status words and codes, promote, demote, stop when stopped', () => {
    expect(results.get('hb_status_secondary')).toBe('3 stopped (Secondary)');
    expect(results.get('ocf_exe_monitor_secondary')).toBe('7');
    expect(timed('hb_start')[0]).toBe(0);
    expect(results.get('role_after_start')).toBe('Primary/Secondary');
    expect(results.get('hb_status_primary')).toBe('0 running (Primary)');
    expect(results.get('hb_status_all')).toBe('10 A resource name is required for status inquiries.');
    expect(results.get('hb_stop')).toBe('0');
    expect(results.get('hb_stop_again')).toBe('0');
    expect(results.get('role_after_stop')).toBe('Secondary/Secondary');
    expect(results.get('hb_status_down')).toBe('3 stopped (Unconfigured)');
  });

  it('a promotion refused while the peer is Primary: 6 attempts 1 s apart, exit 1', () => {
    const [rc, s] = timed('hb_refused');
    expect(rc).toBe(1);
    expect(s).toBeGreaterThanOrEqual(5);
    expect(results.get('hb_refused_attempts')).toBe('6');
    // drbdadm's own exit code for the refusal (not 0), as heartbeat's script saw it.
    expect(results.get('hb_refused_drbdadm_rc')).toMatch(/^[1-9][0-9]* $/);
    expect(timed('ocf_refused')[0]).toBe(1);
    expect(results.get('ocf_refused_reason')).toBe('1');
  });

  it('a demotion refused while the device is mounted: 3 attempts, exit 1, still Primary', () => {
    const [rc, s] = timed('hb_stop_busy');
    expect(rc).toBe(1);
    expect(s).toBeGreaterThanOrEqual(2);
    expect(results.get('hb_stop_busy_attempts')).toBe('3');
    expect(results.get('hb_status_still_primary')).toBe('0 running (Primary)');
  });

  it('Filesystem on /dev/drbd0: start, monitor depths 0/10/20, stop', () => {
    for (const k of ['fs_start', 'fs_monitor_0', 'fs_monitor_10', 'fs_monitor_20', 'fs_stop'])
      expect(results.get(k), k).toBe('0');
    expect(results.get('fs_monitor_after_stop')).toBe('7');
  });

  it('failover: the peer is promoted (OCF form), mounts /dev/drbd1 and reads the data', () => {
    expect(results.get('ocf_monitor_secondary')).toBe('7');
    expect(results.get('ocf_start')).toBe('0');
    expect(results.get('ocf_monitor_primary')).toBe('0');
    expect(results.get('fs_peer_start')).toBe('0');
    expect(results.get('replicated')).toBe('written on r0');
    expect(results.get('fs_peer_stop')).toBe('0');
    expect(results.get('ocf_stop')).toBe('0');
    expect(results.get('ocf_monitor_after_stop')).toBe('7');
    expect(results.get('ocf_monitor_down')).toBe('7');
    expect(results.get('ocf_stop_down')).toBe('0');
  });
});
