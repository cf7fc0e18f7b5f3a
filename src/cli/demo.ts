// Part: `tsbeat demo`: a two-node cluster on this machine (see src/lab/pair.ts) that comes up,
// fails a service over when one node dies, fails it back when the node returns, and cleans up.

import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { LocalPair, PAIR_VIP, type PairNode } from '../lab/pair.js';

export const DEMO_USAGE = `usage: tsbeat demo

Runs a local two-node tsbeat cluster (needs root, iproute2): two network namespaces,
multicast heartbeats over a veth pair, one resource group per node (node1's has a virtual
IP). It then kills one node, shows the survivor take its group and address over, restarts
it, shows the group come back (auto_failback on), and cleans up. Nothing leaves the two
namespaces.
`;

export async function main(argv: string[]): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
    if (values.help) {
      process.stdout.write(DEMO_USAGE);
      return 0;
    }
  } catch (e) {
    process.stderr.write(`tsbeat demo: ${(e as Error).message}\n\n${DEMO_USAGE}`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('tsbeat demo: needs root (it creates two network namespaces); run it with sudo\n');
    return 1;
  }
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    process.stderr.write('tsbeat demo: the ip command is missing: apt-get install iproute2\n');
    return 1;
  }
  const say = (s: string): void => {
    process.stdout.write(`${s}\n`);
  };
  let pair: LocalPair | undefined;
  process.once('SIGINT', () => {
    pair?.destroy();
    process.exit(130);
  });
  try {
    pair = new LocalPair();
    const p = pair;
    const [n1, n2] = p.nodes;
    const tail = (n: PairNode, re: RegExp): void => {
      for (const l of p.log(n).split('\n'))
        if (re.test(l)) say(`   ${n.name} | ${l.replace(/^.*?heartbeat: \[\d+\]: /, '')}`);
    };
    say(`== tsbeat demo: two nodes in network namespaces ${n1.ns} and ${n2.ns}`);
    say(
      `== starting tsbeat on both nodes (node1 prefers "IPaddr2::${PAIR_VIP}/24/eth0 web", node2 prefers "db")`,
    );
    const home = `node1: [${PAIR_VIP} web]   node2: [db]`;
    p.start(n1);
    p.start(n2);
    const upOk = await p.waitUntil(() => p.whereWithVip() === home, 30_000);
    say(`   ${p.whereWithVip()}`);
    tail(n1, /Status update for node node2|Comm_now_up|Link node2/);
    if (!upOk) throw new Error(`the cluster did not come up within 30 s; logs: ${p.root}`);

    say('== killing node1 (SIGKILL, as if it crashed)');
    const killedAt = Date.now();
    p.crash(n1);
    const overOk = await p.waitUntil(
      () => p.whereWithVip() === `node1: []   node2: [${PAIR_VIP} web db]`,
      20_000,
      50,
    );
    say(
      `   ${p.whereWithVip()}   (${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill; deadtime is 2 s)`,
    );
    tail(n2, /is dead|Resources being acquired|mach_down takeover complete\./);
    if (!overOk) throw new Error('node2 did not take over');

    say('== restarting node1: with auto_failback on, "web" comes home');
    p.start(n1);
    const backOk = await p.waitUntil(() => p.whereWithVip() === home, 30_000);
    say(`   ${p.whereWithVip()}`);
    tail(n2, /wants to go standby|Other node completed standby/);
    if (!backOk) throw new Error('web did not come back to node1');
    say('== why did the groups move? tsbeat explain on node2:');
    for (const line of p.explain(n2).trimEnd().split('\n')) say(`   ${line}`);
    say('== done: cleaning up the namespaces');
    return 0;
  } catch (e) {
    process.stderr.write(`\ntsbeat demo: ${(e as Error).message}\n`);
    return 1;
  } finally {
    pair?.destroy();
  }
}
