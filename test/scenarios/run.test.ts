/**
 * Scenario files (after etcd raft's testdata/*.txt): each file under test/scenarios/ is a script
 * of commands for the simulator (the production HaNode on a virtual clock) and, after each
 * `----`, the output expected. A failing scenario shows the difference; to accept new output
 * (after checking it is right), run `TSBEAT_REWRITE_SCENARIOS=1 npx vitest run test/scenarios`.
 *
 * Commands (one per block):
 *   cluster seed=N nodes=a,b media=eth0[,eth1] mode=on|off|legacy groups=node:KEY,... [stonith]
 *   start NODE | kill NODE [machine] | stop NODE | freeze NODE | thaw NODE
 *   standby NODE SET | takeover NODE SET          (SET: all local foreign failback)
 *   cut A B LINK [oneway] | heal A B LINK         (LINK: medium index)
 *   run MS        prints the resource-layer messages put on the wire meanwhile, and where
 *                 groups run at the end
 *   status        every node's view of every node, and its rscstatus
 *   log NODE RE   the node's log lines since its last `log` that match RE
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ResourceSet } from '../../src/ipc/view.js';
import { SimCluster } from '../../src/sim/cluster.js';

const DIR = dirname(fileURLToPath(import.meta.url));
const REWRITE = process.env['TSBEAT_REWRITE_SCENARIOS'] === '1';

interface Block {
  readonly command: string;
  readonly expected: string;
}

function parse(text: string): { blocks: Block[]; header: string } {
  const blocks: Block[] = [];
  const lines = text.split('\n');
  const header: string[] = [];
  let i = 0;
  while (i < lines.length && (lines[i]!.startsWith('#') || lines[i]!.trim() === '')) header.push(lines[i++]!);
  while (i < lines.length) {
    if (lines[i]!.trim() === '') {
      i++;
      continue;
    }
    const command = lines[i++]!;
    if (lines[i] !== '----') throw new Error(`line ${i + 1}: expected ---- after "${command}"`);
    i++;
    const out: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '') out.push(lines[i++]!);
    blocks.push({ command, expected: out.join('\n') });
  }
  return { blocks, header: header.join('\n') };
}

class Runner {
  sim: SimCluster | undefined;
  wireSeen = 0;
  readonly logSeen = new Map<string, number>();

  get s(): SimCluster {
    if (!this.sim) throw new Error('no cluster yet: start with a `cluster` command');
    return this.sim;
  }

  async exec(command: string): Promise<string> {
    const [verb, ...args] = command.trim().split(/\s+/);
    switch (verb) {
      case 'cluster': {
        const kv = new Map(args.map((a) => a.split('=') as [string, string]));
        this.sim = new SimCluster({
          seed: Number(kv.get('seed') ?? 1),
          nodes: (kv.get('nodes') ?? 'n1,n2').split(','),
          media: (kv.get('media') ?? 'eth0').split(','),
          keepaliveMs: 1000,
          deadtimeMs: 3000,
          warntimeMs: 2000,
          initdeadMs: 10000,
          mode: (kv.get('mode') ?? 'on') as 'on',
          groups: (kv.get('groups') ?? '')
            .split(',')
            .filter(Boolean)
            .map((g) => g.split(':') as [string, string]),
          stonith: args.includes('stonith'),
        });
        return 'ok';
      }
      case 'start':
        await this.s.start(args[0]!);
        return 'ok';
      case 'kill':
        this.s.kill(args[0]!, { machine: args[1] === 'machine' });
        return 'ok';
      case 'stop':
        this.s.shutdown(args[0]!);
        return 'ok';
      case 'freeze':
        this.s.freeze(args[0]!);
        return 'ok';
      case 'thaw':
        this.s.thaw(args[0]!);
        return 'ok';
      case 'standby':
      case 'takeover': {
        const n = this.s.node(args[0]!);
        if (verb === 'standby') this.s.standby(args[0]!, args[1] as ResourceSet);
        else this.s.takeover(args[0]!, args[1] as ResourceSet);
        const r = n.requests.at(-1);
        return r ? `${r.accepted ? 'accepted' : 'refused'}: ${r.message}` : 'not running';
      }
      case 'cut':
        this.s.cut(args[0]!, args[1]!, Number(args[2]), true, args[3] === 'oneway');
        return 'ok';
      case 'heal':
        this.s.cut(args[0]!, args[1]!, Number(args[2]), false);
        return 'ok';
      case 'run': {
        await this.s.runFor(Number(args[0]));
        const trace = this.s.trace();
        const fresh = trace.slice(this.wireSeen);
        this.wireSeen = trace.length;
        const where = Object.entries(this.s.where())
          .map(([n, g]) => `${n}=[${g.join(' ')}]`)
          .join(' ');
        return [...fresh, `where: ${where}`].join('\n');
      }
      case 'status': {
        const out: string[] = [];
        for (const n of this.s.opts.nodes) {
          if (!this.s.node(n).alive) {
            out.push(`${n}: not running`);
            continue;
          }
          const views = this.s.opts.nodes.map((m) => `${m}=${this.s.statusOf(n, m)}`).join(' ');
          out.push(`${n}: ${views} rscstatus=${this.s.rscstatus(n)}`);
        }
        return out.join('\n');
      }
      case 'log': {
        const node = args[0]!;
        const re = new RegExp(args.slice(1).join(' '));
        const lines = this.s.logOf(node);
        const from = this.logSeen.get(node) ?? 0;
        this.logSeen.set(node, lines.length);
        return (
          lines
            .slice(from)
            .filter((l) => re.test(l))
            .join('\n') || '(none)'
        );
      }
      default:
        throw new Error(`unknown command "${verb}"`);
    }
  }
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.txt'));

describe('scenario files', () => {
  it('has scenarios', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)('%s', async (file) => {
    const path = join(DIR, file);
    const { blocks, header } = parse(readFileSync(path, 'utf8'));
    const runner = new Runner();
    const actual: Block[] = [];
    try {
      for (const b of blocks) actual.push({ command: b.command, expected: await runner.exec(b.command) });
    } finally {
      runner.sim?.close();
    }
    if (REWRITE) {
      const body = actual.map((b) => `${b.command}\n----\n${b.expected}`).join('\n\n');
      writeFileSync(path, `${header}\n${body}\n`);
      return;
    }
    for (let i = 0; i < blocks.length; i++)
      expect(actual[i]!.expected, `${file}: ${blocks[i]!.command}`).toBe(blocks[i]!.expected);
  });
});
