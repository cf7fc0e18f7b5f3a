/**
 * The functional core — the codec, the membership core and the resource layer's cores
 * (ownership, the group machine, the model) — must stay free of I/O, clocks and global
 * randomness so the simulator can replay it; the shells that drive them live in src/node and
 * src/daemon. This tidy-style check (after TigerBeetle's src/tidy.zig) fails when a file
 * under those folders imports a platform module (the codec may use node:crypto for HMAC and
 * node:zlib for compression), or reaches for process, Buffer, timers, Date.now, Math.random
 * or the console. Imports flow one way (style guide: lib -> codec/config -> membership/
 * resources -> drivers -> node/daemon): a core file that imports a shell folder (src/node,
 * src/daemon, src/media, src/agents...) or a package other than its own fails too, so shell
 * code cannot creep back into a core folder through a helper.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src');
/**
 * Each core folder, with the platform modules and packages it may import, and the src/
 * folders its relative imports may reach. The resource layer's group machine is an XState
 * definition whose effects are injected (src/node/group-executor.ts runs it).
 */
const CORES: readonly (readonly [string, ReadonlySet<string>, ReadonlySet<string>])[] = [
  ['codec', new Set(['node:crypto', 'node:zlib']), new Set(['lib', 'codec'])],
  ['membership', new Set(), new Set(['lib', 'codec', 'membership'])],
  ['resources', new Set(['xstate']), new Set(['lib', 'config', 'resources'])],
];
const FORBIDDEN = [
  /\bprocess\./,
  /\bBuffer\b/,
  /\bsetTimeout\b/,
  /\bsetInterval\b/,
  /\bDate\.now\b/,
  /\bMath\.random\b/,
  /\bconsole\./,
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The file without comments, so prose may mention what code may not use. */
function code(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

describe.each(CORES)('src/%s purity', (folder, allowed, reach) => {
  const dir = join(SRC, folder);
  const files = sources(dir);

  it('has sources to check', () => {
    expect(files.length).toBeGreaterThanOrEqual(2);
  });

  it.each(files.map((f) => [relative(dir, f), f]))('%s', (_name, file) => {
    const text = code(file);
    const specifiers = [...text.matchAll(/(?:from|import)\s+'([^']+)'/g)].map((m) => m[1]!);
    const packages = specifiers.filter((m) => !m.startsWith('.'));
    expect(packages.filter((m) => !allowed.has(m))).toEqual([]);
    const folders = specifiers
      .filter((m) => m.startsWith('.'))
      .map((m) => relative(SRC, join(dirname(file), m)).split(sep)[0]!);
    expect(folders.filter((f) => !reach.has(f))).toEqual([]);
    expect(FORBIDDEN.filter((re) => re.test(text)).map(String)).toEqual([]);
  });
});
