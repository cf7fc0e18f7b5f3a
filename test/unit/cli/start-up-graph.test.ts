/**
 * hb_standby and hb_takeover load only what sending the request needs. Issue 15 times
 * `hb_standby` from the command to the VIP on the peer, and most of that is the CLI's start-up,
 * where each module costs resolution, reading and compiling, and V8 collects young garbage
 * before the request leaves once loading has allocated enough. Proves: the static import graph
 * of both programs (what Node loads before the first line runs, followed through `src/`) is the
 * short list below, without the API server, the schema, config parsing or child_process; the
 * error-path and logger-only modules are reached by dynamic import or getBuiltinModule only.
 * Not a timing test: `npm run bench -- failover --kinds standby` measures the time.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../../support/cli.js';

const SRC = join(REPO, 'src');

/** The static imports of a source file: value imports only (`import type` is erased). */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
    if (m[1]) continue;
    out.push(m[2]!);
  }
  return out;
}

/** Every module reached from `entry` by static imports: src files (relative) and builtins. */
function graph(entry: string): { files: string[]; builtins: string[] } {
  const files = new Set<string>();
  const builtins = new Set<string>();
  const visit = (file: string) => {
    const rel = relative(SRC, file);
    if (files.has(rel)) return;
    files.add(rel);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('node:')) builtins.add(spec);
      else if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      else builtins.add(spec);
    }
  };
  visit(join(SRC, entry));
  return { files: [...files].sort(), builtins: [...builtins].sort() };
}

const STANDBY_FILES = [
  'cli/hb_standby.ts',
  'cli/run.ts',
  'daemon/paths.ts',
  'ipc/cli-common.ts',
  'ipc/client.ts',
  'ipc/protocol.ts',
  'ipc/socket-paths.ts',
];

describe('hb_standby / hb_takeover start-up', () => {
  it('hb_standby statically loads only the request path', () => {
    const g = graph('cli/hb_standby.ts');
    expect(g.files).toEqual(STANDBY_FILES);
    expect(g.builtins).toEqual(['node:fs', 'node:net', 'node:path', 'node:tty', 'node:url']);
  });

  it('hb_takeover adds only itself', () => {
    const g = graph('cli/hb_takeover.ts');
    expect(g.files).toEqual([...STANDBY_FILES, 'cli/hb_takeover.ts'].sort());
  });

  it('the import scan sees value imports and skips type-only ones', () => {
    // A guard on the test itself: api.ts imports the server (value) and view.ts (types only).
    const api = staticImports(join(SRC, 'ipc/api.ts'));
    expect(api).toContain('./server.js');
    expect(api).not.toContain('./view.js');
  });
});
