/**
 * The codec is part of the functional core: it must stay free of I/O, clocks and global
 * randomness so the simulator can replay it. This tidy-style check (after TigerBeetle's
 * src/tidy.zig) fails when a file under src/codec imports a platform module other than
 * node:crypto (HMAC) and node:zlib (compression), or reaches for process, Buffer, timers,
 * Date.now, Math.random or the console.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CODEC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src', 'codec');
const ALLOWED = new Set(['node:crypto', 'node:zlib']);
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

describe('src/codec purity', () => {
  const files = sources(CODEC);

  it('has sources to check', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it.each(files.map((f) => [relative(CODEC, f), f]))('%s', (_name, file) => {
    const text = code(file);
    const platform = [...text.matchAll(/from\s+'(node:[^']+)'/g)].map((m) => m[1]!);
    expect(platform.filter((m) => !ALLOWED.has(m))).toEqual([]);
    expect(FORBIDDEN.filter((re) => re.test(text)).map(String)).toEqual([]);
  });
});
