/**
 * What the daemon loads at start: subsystems a cluster may not use are imported when ha.cf asks
 * for them (src/daemon/daemon.ts, loadOptionalSubsystems) or on first use (the metrics server,
 * pino for JSON logs), because every module a daemon imports stays resident. This follows the
 * static imports from `tsbeat start` (src/cli/daemon-cmds.ts, and src/daemon/daemon.ts, which it
 * imports once the daemon's V8 flags are set) through the sources, as the emitted
 * JavaScript does (`import type` is erased; `import { type X }` is kept as an import), and fails
 * when one of the lazily loaded modules became a static import again.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src');

const LAZY = [
  'watchdog/watchdog.ts',
  'stonith/fencer.ts',
  'ping/pinger.ts',
  'ping/ipfail-driver.ts',
  'respawn/respawn.ts',
  'director/lvs-dr.ts',
  'metrics/server.ts',
];

/** The source without comments, so prose may show an import. */
function code(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Files and packages reached from `entry` through static value imports. */
function staticGraph(...entries: string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const text = code(file);
    for (const m of text.matchAll(
      /^\s*(import|export)\s+(type\s)?[^'";]*?\bfrom\s+'([^']+)'|^\s*import\s+'([^']+)'/gm,
    )) {
      if (m[2]) continue;
      const spec = (m[3] ?? m[4])!;
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (!spec.startsWith('node:')) packages.add(spec);
    }
  };
  for (const e of entries) visit(e);
  return { files, packages };
}

describe('the daemon start graph', () => {
  // daemon-cmds.ts imports the daemon itself after setting the V8 flags (DAEMON_V8_FLAGS).
  const graph = staticGraph(join(SRC, 'cli', 'daemon-cmds.ts'), join(SRC, 'daemon', 'daemon.ts'));
  const reached = new Set([...graph.files].map((f) => relative(SRC, f)));

  it('is followed (sanity: the daemon, the node and the group machine are in it)', () => {
    for (const f of [
      'daemon/daemon.ts',
      'node/ha-node.ts',
      'resources/group-machine.ts',
      'agents/ipaddr2.ts',
    ])
      expect(reached.has(f), f).toBe(true);
  });

  it('does not import the lazily loaded subsystems', () => {
    for (const f of LAZY) expect(reached.has(f), `${f} is imported statically`).toBe(false);
  });

  it('does not import xstate through its CommonJS wrapper (src/lib/xstate.ts loads the ES build)', () => {
    expect([...graph.packages]).not.toContain('xstate');
  });
});
