/**
 * The resource side of the node shell (src/node/ha-node.ts, src/node/group-executor.ts): its
 * work lanes, with the real ownership core
 * and real group machines over a fake runner whose actions the test settles by hand (so a
 * "stuck" agent is one that never answers and ignores its abort, and nothing depends on how
 * fast the machine is). Proves: a group whose start never finishes holds up neither a fence
 * nor the takeover of the dead peer's groups, which finish and are reported (workDone) while
 * it still hangs; a work item naming several groups is reported only once all of them are
 * settled, so items finish out of order; one group's release and acquisition never overlap
 * and keep the core's order while another group's work goes past; a fence that never answers
 * counts as failed after its deadline and is retried; a group machine that dies of an internal
 * error counts as stuck here (it may have left anything running) and its work still completes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeKeyring } from '../../../src/codec/auth/keyring.js';
import { message, stringField } from '../../../src/codec/model.js';
import { parseHaCf } from '../../../src/config/hacf.js';
import { parseHaresources } from '../../../src/config/haresources.js';
import type { Config, ResourceConfig } from '../../../src/config/model.js';
import { systemClock } from '../../../src/lib/clock.js';
import { seededRandom } from '../../../src/lib/random.js';
import {
  type Fencer,
  HaNode,
  type HaNodeResources,
  type ResourceRunnerPort,
} from '../../../src/node/ha-node.js';
import type { ResourceOpResult } from '../../../src/resources/group-machine.js';

const HARESOURCES = 'node1 Dummy::a\nnode2 Dummy::b\nnode1 Dummy::c\n';

function config(localNode: string, mode: 'on' | 'legacy'): Config {
  const haCf = parseHaCf(
    `keepalive 1\ndeadtime 3\nbcast eth0\nnode node1\nnode node2\nauto_failback ${mode}\n`,
    { file: 'ha.cf', localNode },
  ).haCf;
  const { groups } = parseHaresources(HARESOURCES, 'haresources');
  return { dir: '/etc/ha.d', localNode, haCf, keyring: {} as Config['keyring'], groups };
}

/** Actions named in `hold` ("Dummy::b start") never answer until the test releases them. */
class FakeRunner implements ResourceRunnerPort {
  readonly calls: string[] = [];
  readonly hold = new Set<string>();
  readonly held = new Map<string, (r: ResourceOpResult) => void>();
  readonly running = new Set<string>();
  run(resource: ResourceConfig, action: 'start' | 'stop' | 'status'): Promise<ResourceOpResult> {
    const call = `${resource.spec} ${action}`;
    this.calls.push(call);
    if (this.hold.has(call)) {
      this.hold.delete(call);
      // Ignores the abort signal: only release() ends it.
      return new Promise((resolve) => this.held.set(call, resolve));
    }
    if (action === 'status') return Promise.resolve({ rc: 0, running: this.running.has(resource.spec) });
    if (action === 'start') this.running.add(resource.spec);
    else this.running.delete(resource.spec);
    return Promise.resolve({ rc: 0 });
  }
  release(call: string, r: ResourceOpResult): void {
    const settle = this.held.get(call);
    if (!settle) throw new Error(`${call} is not held`);
    this.held.delete(call);
    settle(r);
  }
}

let manager: HaNode | undefined;
afterEach(() => {
  manager?.stop();
  manager = undefined;
});

const keyring = makeKeyring([{ index: 1, method: 'sha1', key: new TextEncoder().encode('k') }], 1)!;

function setup(localNode: string, mode: 'on' | 'legacy', fencer?: Fencer, extra = {}, throwOn?: string) {
  const runner = new FakeRunner();
  const logs: string[] = [];
  const line = (level: string) => (m: string) => {
    if (throwOn !== undefined && m.startsWith(throwOn)) throw new Error(`log sink failed on "${m}"`);
    logs.push(`${level}: ${m}`);
  };
  const cfg = config(localNode, mode);
  const log = {
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    crit: line('crit'),
  };
  const resources: HaNodeResources = {
    mode,
    groups: cfg.groups,
    runner,
    ...(fencer ? { fencer } : {}),
    stopRetryDelayMs: 1,
    ...extra,
  };
  // No media: the messages the resource side sends go nowhere; the test plays the peer and
  // membership by hand (injectMembershipOutput, the same translation the membership core feeds).
  const m = new HaNode({
    membership: {
      localNode,
      nodes: cfg.haCf.nodes,
      links: [],
      keepaliveMs: 1000,
      deadtimeMs: 3000,
      warntimeMs: 2000,
      initdeadMs: 3000,
      maxRexmitDelayMs: 250,
      hopfudge: 1,
      generation: 1,
      uuid: new Uint8Array(16),
    },
    media: [],
    keyring,
    innerAuth: false,
    clock: systemClock,
    random: seededRandom(1),
    log,
    resources,
  });
  m.start();
  manager = m;
  const deliver = (from: string, fields: Record<string, string>): void =>
    m.injectMembershipOutput({
      from,
      type: fields['t'] ?? '',
      msg: message(Object.entries(fields).map(([k, v]) => stringField(k, v))),
    });
  return { m, runner, logs, deliver };
}

/** Let promises and zero-delay timers run until `pred` holds (bounded, never a fixed sleep). */
async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const index = (logs: string[], text: string): number => logs.findIndex((l) => l.includes(text));

describe('resource work lanes', () => {
  it('a group whose start never finishes holds up neither the fence nor the takeover of the dead peer', async () => {
    const fenced: string[] = [];
    const fencer: Fencer = {
      configured: true,
      fence: async (node) => {
        fenced.push(node);
        return true;
      },
    };
    const { m, runner, logs, deliver } = setup('node2', 'on', fencer);
    runner.hold.add('Dummy::b start');
    m.injectMembershipOutput({ kind: 'commUp' });
    // node1 is stable and holds its own groups: node2 takes its own (Dummy::b), which hangs.
    deliver('node1', { t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '1' });
    await until(() => runner.held.has('Dummy::b start'), 'the start of Dummy::b');

    // node1 dies while it hangs. Two of node1's groups: the second one is held too, so the
    // takeover item can be seen to wait for all its groups.
    runner.hold.add('Dummy::c start');
    m.injectMembershipOutput({ kind: 'nodeDead', node: 'node1', silentMs: 3000, limitMs: 3000 });
    await until(() => fenced.length === 1, 'the fence');
    await until(() => runner.running.has('Dummy::a'), 'the takeover of Dummy::a');
    await until(() => runner.held.has('Dummy::c start'), 'the start of Dummy::c');
    expect(fenced).toEqual(['node1']);
    expect(index(logs, 'mach_down takeover complete')).toBe(-1);
    expect(m.rscStatus()).toBe('transition');

    runner.release('Dummy::c start', { rc: 0 });
    await until(() => index(logs, 'mach_down takeover complete.') >= 0, 'the takeover reported');
    // The takeover finished, and was reported, while Dummy::b still hangs.
    expect(runner.held.has('Dummy::b start')).toBe(true);
    expect(index(logs, 'Local Resource acquisition completed.')).toBe(-1);

    // Now the hung start fails (as at its deadline): b is stopped and reported after the takeover.
    runner.release('Dummy::b start', { rc: 1 });
    await until(() => index(logs, 'Local Resource acquisition completed.') >= 0, 'the first item reported');
    expect(runner.calls.filter((c) => c.startsWith('Dummy::b'))).toEqual([
      'Dummy::b status',
      'Dummy::b start',
      'Dummy::b stop',
    ]);
    expect(index(logs, 'crit: Giving up resources due to failure of Dummy::b')).toBeGreaterThan(
      index(logs, 'mach_down takeover complete.'),
    );
    expect(m.groups().map((g) => [g.key, g.state])).toEqual([
      ['Dummy::a', 'running'],
      ['Dummy::b', 'failed'],
      ['Dummy::c', 'running'],
    ]);
  });

  it("one group's release and acquisition never overlap, while another group's work goes past", async () => {
    const { m, runner, deliver } = setup('node1', 'legacy');
    m.injectMembershipOutput({ kind: 'commUp' });
    await until(() => runner.running.has('Dummy::a') && runner.running.has('Dummy::c'), 'own groups');
    runner.calls.length = 0;

    runner.hold.add('Dummy::a stop');
    deliver('node2', { t: 'ip-request', ipaddr: 'Dummy::a' });
    await until(() => runner.held.has('Dummy::a stop'), 'the release of Dummy::a');
    // The peer grants it back at once: the acquisition is queued behind the release.
    deliver('node2', { t: 'ip-request-resp', dest: 'node1', ipaddr: 'Dummy::a', ok: 'OK', weown: 'yes' });
    // Meanwhile a release of another group runs to the end.
    deliver('node2', { t: 'ip-request', ipaddr: 'Dummy::c' });
    await until(() => !runner.running.has('Dummy::c'), 'the release of Dummy::c');
    expect(runner.calls).toEqual(['Dummy::a stop', 'Dummy::c stop']);

    runner.release('Dummy::a stop', { rc: 0 });
    runner.running.delete('Dummy::a');
    await until(() => runner.running.has('Dummy::a'), 'the acquisition of Dummy::a');
    expect(runner.calls).toEqual(['Dummy::a stop', 'Dummy::c stop', 'Dummy::a status', 'Dummy::a start']);
  });

  it('a fence that never answers counts as failed after its deadline, and is retried', async () => {
    let calls = 0;
    const fencer: Fencer = {
      configured: true,
      fence: (node) => {
        calls++;
        return calls === 1 ? new Promise<boolean>(() => {}) : Promise.resolve(node === 'node1');
      },
    };
    const { m, runner, logs, deliver } = setup('node2', 'on', fencer, {
      fenceDeadlineMs: 50,
      timers: { fenceRetryMs: 10 },
    });
    m.injectMembershipOutput({ kind: 'commUp' });
    deliver('node1', { t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '1' });
    await until(() => runner.running.has('Dummy::b'), 'own group');
    m.injectMembershipOutput({ kind: 'nodeDead', node: 'node1', silentMs: 3000, limitMs: 3000 });
    await until(() => runner.running.has('Dummy::a'), 'the takeover after the second fence');
    expect(calls).toBe(2);
    expect(logs).toContain('error: STONITH of node1: no answer after 50 ms; counted as failed');
    expect(logs).toContain('error: STONITH of node1 failed.  Retrying...');
  });

  it('a group machine that dies of an internal error counts as stuck, and its work item still completes', async () => {
    const { m, runner, logs, deliver } = setup(
      'node2',
      'on',
      undefined,
      {},
      'Acquiring resource group: node2',
    );
    m.injectMembershipOutput({ kind: 'commUp' });
    deliver('node1', { t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '1' });
    await until(() => index(logs, 'Local Resource acquisition completed.') >= 0, 'the item reported');
    expect(logs.some((l) => /^crit: group Dummy::b: internal error/.test(l))).toBe(true);
    expect(runner.calls).toEqual([]);
    expect(m.rscStatus()).not.toBe('transition');
    expect(m.ownership!.stuck.has('Dummy::b')).toBe(true);
  });
});
