/**
 * The daemon's observer (src/observe/observer.ts) against a stand-in node (fake views, groups
 * and listeners; no sockets). Proves: the digest goes out at comm-up, when a peer comes back and
 * when it restarts; a peer's differing digest is one WARN naming the files (not repeated while
 * nothing changes), shows in configMismatch and the metrics, and clears with an info line when
 * the peer agrees again; a malformed digest is a warning; our own echo is ignored; a takeover
 * after a dead peer counts in the metrics with its duration from the peer's last heartbeat and
 * is one "ownership change" log line with reason, group, node and durationMs fields; agent and
 * fence timings reach the journal and the counters, failures counted.
 */
import { describe, expect, it } from 'vitest';
import { type Message, stringField } from '../../../src/codec/model.js';
import { parseAuthkeys } from '../../../src/config/authkeys.js';
import { parseHaCf } from '../../../src/config/hacf.js';
import { parseHaresources } from '../../../src/config/haresources.js';
import type { Config } from '../../../src/config/model.js';
import { memoryLog } from '../../../src/daemon/log.js';
import type { Delivered, MembershipEvent } from '../../../src/membership/model.js';
import type { WorkListener } from '../../../src/node/ha-node.js';
import { digestMessage } from '../../../src/observe/config-digest.js';
import { Observer } from '../../../src/observe/observer.js';

const config: Config = {
  dir: '/etc/ha.d',
  localNode: 'node1',
  haCf: parseHaCf('keepalive 1\ndeadtime 3\nbcast eth0\nnode node1 node2\n', {
    file: 'ha.cf',
    localNode: 'node1',
  }).haCf,
  keyring: parseAuthkeys('auth 1\n1 sha1 k\n', 'authkeys').keyring!,
  groups: parseHaresources('node1 Dummy::a\nnode2 Dummy::b Dummy::c\n', 'haresources').groups,
};
const mine = { 'ha.cf': '0000000000000001', haresources: '0000000000000002', authkeys: '0000000000000003' };

function setup() {
  let now = 1_000_000;
  const clock = { monotonicMs: () => now, wallMs: () => 1_700_000_000_000 + now };
  const log = memoryLog();
  const sent: Message[] = [];
  const listeners: {
    event?: (e: MembershipEvent) => void;
    deliver?: (d: Delivered) => void;
    work?: WorkListener;
  } = {};
  const node = {
    views: () => [
      {
        name: 'node1',
        status: 'active' as const,
        generation: 5,
        deadtimeMs: 3000,
        lastHeardAgoMs: undefined,
        links: [],
      },
      {
        name: 'node2',
        status: 'dead' as const,
        generation: 9,
        deadtimeMs: 3000,
        lastHeardAgoMs: 3100,
        links: [{ name: 'eth0', status: 'dead' as const, lastHeardAgoMs: 3100 }],
      },
    ],
    groups: () => [],
    send: (m: Message) => sent.push(m),
    onEvent: (l: (e: MembershipEvent) => void) => {
      listeners.event = l;
    },
    onDeliver: (l: (d: Delivered) => void) => {
      listeners.deliver = l;
    },
    onWork: (l: WorkListener) => {
      listeners.work = l;
    },
  };
  const obs = new Observer({ config, log, clock, digest: mine, generation: 5 });
  obs.attach(node);
  const digestFrom = (from: string, d: typeof mine) =>
    listeners.deliver!({ from, type: 'tsbeat-cfg', msg: digestMessage(d) });
  return { obs, log, sent, listeners, advance: (ms: number) => (now += ms), digestFrom };
}

const text = (log: ReturnType<typeof memoryLog>) => log.lines.map((l) => `${l.level}: ${l.msg}`);

describe('observer: config digest', () => {
  it('sends the digest at comm-up, on a returning and on a restarted peer', () => {
    const { sent, listeners } = setup();
    listeners.event!({ kind: 'commUp' });
    listeners.event!({ kind: 'nodeStatus', node: 'node2', from: 'dead', to: 'active' });
    listeners.event!({ kind: 'nodeStatus', node: 'node2', from: 'up', to: 'active' }); // not a return
    listeners.event!({ kind: 'restart', node: 'node2', generation: 10 });
    expect(sent).toHaveLength(3);
    expect(sent[0]).toEqual(digestMessage(mine));
  });

  it('warns once per change, naming the files; clears when the peer agrees again', () => {
    const { obs, log, digestFrom } = setup();
    digestFrom('node1', { ...mine, haresources: 'ffffffffffffffff' }); // our own echo
    expect(obs.configMismatch()).toEqual([]);
    digestFrom('node2', { ...mine, haresources: 'ffffffffffffffff' });
    digestFrom('node2', { ...mine, haresources: 'ffffffffffffffff' });
    expect(obs.configMismatch()).toEqual([{ node: 'node2', files: ['haresources'] }]);
    expect(obs.registry.expose(false)).toContain('tsbeat_config_mismatch{node="node2",file="haresources"} 1');
    digestFrom('node2', { ...mine, 'ha.cf': 'ffffffffffffffff', authkeys: 'unreadable' });
    digestFrom('node2', mine);
    expect(obs.configMismatch()).toEqual([]);
    expect(text(log).filter((l) => !l.startsWith('debug'))).toEqual([
      "warn: configuration differs from node node2's: /etc/ha.d/haresources (ha.cf apart from media and logging lines, haresources and authkeys must be the same on every node; a failover onto a node with another haresources may fail)",
      "warn: configuration differs from node node2's: /etc/ha.d/ha.cf, /etc/ha.d/authkeys (ha.cf apart from media and logging lines, haresources and authkeys must be the same on every node; a failover onto a node with another haresources may fail)",
      "info: configuration of node2 now matches this node's (ha.cf, haresources, authkeys)",
    ]);
  });

  it('a malformed digest is a warning and changes nothing', () => {
    const { obs, log, listeners } = setup();
    listeners.deliver!({
      from: 'node2',
      type: 'tsbeat-cfg',
      msg: { fields: [stringField('t', 'tsbeat-cfg'), stringField('cfg_hacf', '../../etc')] },
    });
    expect(obs.configMismatch()).toEqual([]);
    expect(text(log)).toEqual(['warn: configuration digest from node2 is malformed; ignored']);
  });
});

describe('observer: takeover, agents, fencing', () => {
  it('a takeover after a dead peer: counted, timed from the last heartbeat, one log line with fields', async () => {
    const { obs, log, listeners, advance } = setup();
    const dispatch = (item: Parameters<WorkListener>[0]['item']) =>
      listeners.work!({ phase: 'dispatch', item });
    const done = (item: Parameters<WorkListener>[0]['item'], fenced?: boolean) =>
      listeners.work!({
        phase: 'done',
        item,
        result: { id: item.id, startFailed: [], stopFailed: [], ...(fenced !== undefined ? { fenced } : {}) },
      });
    const fenceItem = { id: 1, kind: 'fence' as const, purpose: 'fence' as const, node: 'node2' };
    dispatch(fenceItem);
    listeners.event!({ kind: 'nodeDead', node: 'node2', silentMs: 3100, limitMs: 3000 });
    await Promise.resolve();
    const ok = await obs.fence('node2', 'external/ipmi', async () => {
      advance(180);
      return true;
    });
    expect(ok).toBe(true);
    done(fenceItem, true);
    const acquire = {
      id: 2,
      kind: 'acquire' as const,
      purpose: 'machDown' as const,
      keys: ['Dummy::b'],
      skipIfKeyRunning: false,
    };
    dispatch(acquire);
    await Promise.resolve();
    for (const spec of ['Dummy::b', 'Dummy::c'])
      await obs.agentRun({ spec, script: 'Dummy' }, 'start', async () => {
        advance(5);
        return { rc: spec === 'Dummy::c' ? 1 : 0 };
      });
    done(acquire);
    const line = log.lines.find((l) => l.msg.startsWith('ownership change:'));
    expect(line?.msg).toBe(
      'ownership change: [peer-dead] node2 silent 3100 ms on 1/1 links > deadtime 3000 ms → fenced node2 via external/ipmi (180 ms) → took over group Dummy::b (Dummy 5 ms, Dummy 5 ms rc=1) → total 3.29 s',
    );
    expect(line?.fields).toEqual({
      reason: 'peer-dead',
      group: 'Dummy::b',
      node: 'node2',
      durationMs: 3290,
      outcome: 'done',
    });
    const m = obs.registry.expose(false);
    expect(m).toContain('tsbeat_takeovers_total 1\n');
    expect(m).toContain('tsbeat_takeover_duration_seconds_sum 3.29\n');
    expect(m).toContain('tsbeat_fence_attempts_total{node="node2"} 1\n');
    expect(m).not.toContain('tsbeat_fence_failures_total{');
    expect(m).toContain('tsbeat_agent_action_failures_total{agent="Dummy",action="start"} 1\n');
    expect(m).toContain('tsbeat_agent_action_duration_seconds_count{agent="Dummy",action="start"} 2\n');
    expect(m).toContain('tsbeat_node_up{node="node2"} 0\n');
    expect(m).toContain('tsbeat_link_up{node="node2",link="eth0"} 0\n');
    expect(m).toContain('tsbeat_generation{node="node1"} 5\ntsbeat_generation{node="node2"} 9\n');
  });

  it('a failed fence is counted as an attempt and a failure', async () => {
    const { obs } = setup();
    expect(await obs.fence('node2', 'null', async () => false)).toBe(false);
    await expect(obs.fence('node2', 'null', async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    const m = obs.registry.expose(false);
    expect(m).toContain('tsbeat_fence_attempts_total{node="node2"} 2\n');
    expect(m).toContain('tsbeat_fence_failures_total{node="node2"} 2\n');
    expect(obs.journal.since().map((e) => e.kind)).toEqual(['fence', 'fence']);
  });
});
