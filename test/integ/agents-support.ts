// Helpers shared by the agent namespace tests: install tsbeat's agents inside a harness node
// (an overlay on /usr/lib/ocf/resource.d in the node's private mount namespace, so the real
// `tsbeat install-agents` writes to the real path and the host never sees it), run the in-process
// fast path inside a node, capture ARP frames with tcpdump on a peer, read addresses.
import { join } from 'node:path';
import { REPO_ROOT } from '../harness/daemon.js';
import { type HarnessNode, TSBEAT_JS, waitFor } from '../harness/index.js';

/** The installed OCF path of an agent inside a node. */
export function ocfAgent(name: string): string {
  return `/usr/lib/ocf/resource.d/tsbeat/${name}`;
}

/** Install the agents in the node with `tsbeat install-agents`, on an overlay private to the node. */
export async function installAgentsInNode(node: HarnessNode): Promise<string> {
  await node.execOk(['mkdir', '-p', '/run/tsb-ocf/up', '/run/tsb-ocf/work']);
  await node.execOk([
    'mount',
    '-t',
    'overlay',
    'tsbeat-ocf',
    '-o',
    'lowerdir=/usr/lib/ocf/resource.d,upperdir=/run/tsb-ocf/up,workdir=/run/tsb-ocf/work',
    '/usr/lib/ocf/resource.d',
  ]);
  const r = await node.execOk(['node', TSBEAT_JS, 'install-agents', '--lib-dir', '/run/tsbeat-agents']);
  return r.stdout;
}

/** One in-process call's result, as the resource manager would get it. */
export interface InProcessResult {
  readonly rc: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run `runHeartbeatStyle(script, args, action)` for each action, in one Node process inside the
 * node (the in-process fast path, the same module tsbeat's resource manager imports).
 */
export async function inProcess(
  node: HarnessNode,
  script: string,
  args: readonly string[],
  actions: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<InProcessResult[]> {
  const code = `
    const { runHeartbeatStyle, shutdownBuiltinAgents } = await import(process.argv[1]);
    const [script, args, actions] = JSON.parse(process.argv[2]);
    const out = [];
    for (const action of actions) {
      const r = await runHeartbeatStyle(script, args, action, {
        env: process.env, signal: new AbortController().signal, log: () => {},
      });
      out.push(r);
    }
    shutdownBuiltinAgents();
    process.stdout.write(JSON.stringify(out));
  `;
  const r = await node.execOk(
    [
      'node',
      '--input-type=module',
      '-e',
      code,
      `file://${join(REPO_ROOT, 'dist', 'agents', 'builtin.js')}`,
      JSON.stringify([script, args, actions]),
    ],
    { env: { ...env } },
  );
  return JSON.parse(r.stdout) as InProcessResult[];
}

/** One captured ARP frame. */
export interface ArpFrame {
  readonly srcMac: string;
  readonly op: 'request' | 'reply';
  readonly ip: string;
  readonly line: string;
}

/** Parse `tcpdump -l -n -e` lines of ARP frames. */
export function parseArp(text: string): ArpFrame[] {
  const frames: ArpFrame[] = [];
  for (const line of text.split('\n')) {
    const mac = /^\S+ ([0-9a-f:]{17}) > ff:ff:ff:ff:ff:ff, ethertype ARP/.exec(line)?.[1];
    if (mac === undefined) continue;
    const req = /Request who-has (\S+) (?:\(\S+\) )?tell (\S+),/.exec(line);
    const rep = /Reply (\S+) is-at ([0-9a-f:]{17}),/.exec(line);
    if (req?.[1] !== undefined && req[1] === req[2])
      frames.push({ srcMac: mac, op: 'request', ip: req[1], line });
    else if (rep?.[1] !== undefined && rep[2] === mac)
      frames.push({ srcMac: mac, op: 'reply', ip: rep[1], line });
  }
  return frames;
}

/**
 * Capture ARP frames about `ip` on the peer's eth0 while `action` runs: tcpdump stops after
 * `count` frames (or after `timeoutMs`, then it is ended).
 */
export async function captureArp(
  peer: HarnessNode,
  ip: string,
  count: number,
  action: () => Promise<void>,
  timeoutMs = 15_000,
): Promise<ArpFrame[]> {
  const td = await peer.spawn(
    ['tcpdump', '-l', '-n', '-e', '-c', String(count), '-i', 'eth0', 'arp', 'host', ip],
    {
      label: 'tcpdump',
    },
  );
  await waitFor(() => td.stderr().includes('listening on'), 10_000, { description: 'tcpdump listening' });
  await action();
  const finished = await Promise.race([
    td.exited.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs)),
  ]);
  if (!finished) {
    try {
      process.kill(td.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await td.exited;
  }
  return parseArp(td.stdout());
}

/** `ip -o -4 addr` of a node as "ifname address/prefix [brd B] label" records. */
export async function ipv4(
  node: HarnessNode,
): Promise<{ ifname: string; cidr: string; brd: string; label: string }[]> {
  const r = await node.execOk(['ip', '-j', '-4', 'addr', 'show']);
  const out: { ifname: string; cidr: string; brd: string; label: string }[] = [];
  for (const link of JSON.parse(r.stdout) as { ifname: string; addr_info?: Record<string, unknown>[] }[]) {
    for (const a of link.addr_info ?? []) {
      out.push({
        ifname: link.ifname,
        cidr: `${String(a['local'])}/${String(a['prefixlen'])}`,
        brd: typeof a['broadcast'] === 'string' ? a['broadcast'] : '',
        label: typeof a['label'] === 'string' ? a['label'] : link.ifname,
      });
    }
  }
  return out;
}

/** MAC address of a node's interface. */
export async function macOf(node: HarnessNode, ifname = 'eth0'): Promise<string> {
  const r = await node.execOk(['ip', '-j', 'link', 'show', 'dev', ifname]);
  return (JSON.parse(r.stdout) as { address: string }[])[0]?.address ?? '';
}

/** Whether the peer gets an ARP answer for `ip` (arping exits 0 on a reply). */
export async function arpAnswered(peer: HarnessNode, ip: string): Promise<boolean> {
  const r = await peer.exec(['arping', '-q', '-c', '1', '-w', '2', '-I', 'eth0', ip], { timeoutMs: 15_000 });
  return r.code === 0;
}

/** The repository root (for the shims under ocf/ and resource.d/). */
export const REPO = REPO_ROOT;
