// Part: `tsbeat install-agents`: put tsbeat's agents where other managers look for them —
// `/usr/lib/ocf/resource.d/tsbeat/NAME` for OCF (Pacemaker, crm_resource, ocf-tester), optionally
// heartbeat-style scripts in a resource.d directory — as world-readable copies, because
// ocf-tester runs `meta-data` as user nobody and a repository under a 0700 home is unreadable.

import {
  accessSync,
  chmodSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentNames } from '../agents/registry.js';
import { quoted } from '../lib/printable.js';

const MARKER = 'Installed by tsbeat install-agents';

export const INSTALL_AGENTS_USAGE = `usage: tsbeat install-agents [options]

Installs tsbeat's resource agents (${agentNames().join(', ')}) for other managers:
  <ocf-root>/resource.d/<provider>/NAME   OCF agents (crm_resource --class ocf --provider tsbeat)
  <lib-dir>/                               the agents' JavaScript (a self-contained copy)
  <resource-d>/NAME                        heartbeat-style scripts, only with --resource-d

options:
  --ocf-root DIR     OCF root (default /usr/lib/ocf; Pacemaker has it compiled in)
  --provider NAME    OCF provider directory (default tsbeat)
  --lib-dir DIR      where the JavaScript goes (default /usr/lib/tsbeat)
  --resource-d DIR   also install heartbeat-style scripts there (e.g. /etc/ha.d/resource.d;
                     existing files not written by this command are kept unless --force)
  --node PATH        node executable the scripts run (default: the one running this command)
  --force            overwrite foreign files in --resource-d
  --uninstall        remove what this command installed
  --dry-run          print what would be done
`;

interface Options {
  ocfRoot: string;
  provider: string;
  libDir: string;
  resourceD: string | undefined;
  node: string;
  force: boolean;
  uninstall: boolean;
  dryRun: boolean;
}

function parseArgs(argv: readonly string[]): Options | string {
  const o: Options = {
    ocfRoot: '/usr/lib/ocf',
    provider: 'tsbeat',
    libDir: '/usr/lib/tsbeat',
    resourceD: undefined,
    node: realpathSync(process.execPath),
    force: false,
    uninstall: false,
    dryRun: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string | undefined => argv[++i];
    switch (a) {
      case '--ocf-root':
      case '--provider':
      case '--lib-dir':
      case '--resource-d':
      case '--node': {
        const v = value();
        if (v === undefined || v === '') return `${a} needs a value`;
        if (v.length > 4096) return `${a}: value of ${v.length} characters is too long`;
        // Paths are printed back (dry run, errors): refuse what a terminal would act on.
        if (/[\u0000-\u001f\u007f-\u009f]/.test(v))
          return `${a} ${quoted(v, 60)}: control characters are not allowed`;
        if (a === '--ocf-root') o.ocfRoot = resolve(v);
        else if (a === '--provider') o.provider = v;
        else if (a === '--lib-dir') o.libDir = resolve(v);
        else if (a === '--resource-d') o.resourceD = resolve(v);
        else o.node = resolve(v);
        break;
      }
      case '--force':
        o.force = true;
        break;
      case '--uninstall':
        o.uninstall = true;
        break;
      case '--dry-run':
        o.dryRun = true;
        break;
      default:
        return `unknown option ${quoted(a ?? '', 60)}`;
    }
  }
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(o.provider))
    return `bad provider name ${quoted(o.provider, 60)} (letters, digits, "_", "." and "-")`;
  return o;
}

/**
 * The compiled files `cli/agent.js` needs: follows relative `import ... from './x.js'` and
 * `import('./x.js')` in the emitted JavaScript. Anything else than node: built-ins and relative
 * files would make the copy depend on node_modules, so it is reported.
 */
export function agentClosure(
  distRoot: string,
  entry = 'cli/agent.js',
): { files: string[]; foreign: string[] } {
  const seen = new Set<string>();
  const foreign = new Set<string>();
  const queue = [entry];
  // Statement-level imports/re-exports and dynamic import(); comments mentioning "from 'x'" do not
  // start a line with import/export.
  const spec =
    /^\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;
  while (queue.length > 0) {
    const rel = queue.pop();
    if (rel === undefined || seen.has(rel)) continue;
    seen.add(rel);
    const text = readFileSync(join(distRoot, rel), 'utf8');
    for (const m of text.matchAll(spec)) {
      const target = m[1] ?? m[2] ?? m[3] ?? '';
      if (target.startsWith('node:')) continue;
      if (target.startsWith('./') || target.startsWith('../')) {
        queue.push(relative(distRoot, resolve(dirname(join(distRoot, rel)), target)));
      } else {
        foreign.add(target);
      }
    }
  }
  return { files: [...seen].sort(), foreign: [...foreign].sort() };
}

function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The text of an installed shim. */
export function shimText(kind: 'ocf' | 'hb', name: string, node: string, agentJs: string): string {
  const what = kind === 'ocf' ? `OCF resource agent ${name}` : `heartbeat-style resource script ${name}`;
  return `#!/bin/sh
# ${MARKER}: ${what} (runs tsbeat's TypeScript agent).
TSBEAT_ARGV0=$0
export TSBEAT_ARGV0
unset NODE_EXTRA_CA_CERTS
exec ${shq(node)} ${shq(agentJs)} ${kind} ${name} "$@"
`;
}

/** Paths user nobody cannot read or traverse (ocf-tester's permission check runs as nobody). */
export function unreadableByOthers(paths: readonly string[]): string[] {
  const bad = new Set<string>();
  for (const p of paths) {
    let dir = dirname(p);
    for (;;) {
      try {
        if ((statSync(dir).mode & 0o001) === 0) bad.add(`${dir} (directory not searchable by others)`);
      } catch {
        // missing: reported by the file check below
      }
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    try {
      const mode = statSync(p).mode;
      if ((mode & 0o004) === 0) bad.add(`${p} (not readable by others)`);
    } catch {
      bad.add(`${p} (missing)`);
    }
  }
  return [...bad].sort();
}

function isOurs(path: string): boolean {
  try {
    return readFileSync(path, 'utf8').includes(MARKER);
  } catch {
    return false;
  }
}

/** `tsbeat install-agents`. */
export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(INSTALL_AGENTS_USAGE);
    return 0;
  }
  const parsed = parseArgs(argv);
  if (typeof parsed === 'string') {
    process.stderr.write(`tsbeat install-agents: ${parsed}\n\n${INSTALL_AGENTS_USAGE}`);
    return 2;
  }
  const o = parsed;
  const say = (line: string): void => {
    process.stdout.write(`${o.dryRun ? '(dry run) ' : ''}${line}\n`);
  };
  const ocfDir = join(o.ocfRoot, 'resource.d', o.provider);
  const names = agentNames();

  if (o.uninstall) {
    for (const dir of [ocfDir, ...(o.resourceD ? [o.resourceD] : [])]) {
      for (const n of names) {
        const p = join(dir, n);
        if (existsSync(p) && isOurs(p)) {
          say(`remove ${p}`);
          if (!o.dryRun) rmSync(p);
        }
      }
    }
    if (existsSync(join(o.libDir, 'cli', 'agent.js'))) {
      say(`remove ${o.libDir}`);
      if (!o.dryRun) rmSync(o.libDir, { recursive: true, force: true });
    }
    return 0;
  }

  const distRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  if (!existsSync(join(distRoot, 'cli', 'agent.js'))) {
    process.stderr.write(
      `tsbeat install-agents: ${distRoot}/cli/agent.js is missing (run "npm run build")\n`,
    );
    return 1;
  }
  const { files, foreign } = agentClosure(distRoot);
  if (foreign.length > 0) {
    process.stderr.write(
      `tsbeat install-agents: the agents import packages (${foreign.join(', ')}); refusing\n`,
    );
    return 1;
  }
  try {
    accessSync(o.node, constants.X_OK);
  } catch {
    process.stderr.write(`tsbeat install-agents: ${o.node} is not executable (use --node)\n`);
    return 1;
  }
  if (o.resourceD) {
    const foreignFiles = names
      .map((n) => join(o.resourceD ?? '', n))
      .filter((p) => existsSync(p) && !isOurs(p));
    if (foreignFiles.length > 0 && !o.force) {
      process.stderr.write(
        `tsbeat install-agents: not replacing ${foreignFiles.join(', ')} (not installed by tsbeat; --force replaces them)\n`,
      );
      return 1;
    }
  }

  say(`copy ${files.length} files from ${distRoot} to ${o.libDir}`);
  if (!o.dryRun) {
    for (const f of files) {
      const dst = join(o.libDir, f);
      mkdirSync(dirname(dst), { recursive: true, mode: 0o755 });
      copyFileSync(join(distRoot, f), dst);
      chmodSync(dst, 0o644);
    }
    // The copies are ES modules; without this file node would read them as CommonJS.
    writeFileSync(join(o.libDir, 'package.json'), '{ "type": "module" }\n', { mode: 0o644 });
    chmodSync(join(o.libDir, 'package.json'), 0o644);
  }
  const agentJs = join(o.libDir, 'cli', 'agent.js');
  const targets: { kind: 'ocf' | 'hb'; dir: string }[] = [{ kind: 'ocf', dir: ocfDir }];
  if (o.resourceD) targets.push({ kind: 'hb', dir: o.resourceD });
  for (const t of targets) {
    for (const n of names) {
      const p = join(t.dir, n);
      say(`install ${p}`);
      if (!o.dryRun) {
        mkdirSync(t.dir, { recursive: true, mode: 0o755 });
        // Write beside it and rename over it: a symlink in its place is replaced, never
        // followed (heartbeat's package links resource.d/ldirectord to /usr/sbin/ldirectord,
        // and writing through it replaced the real ldirectord program).
        const tmp = join(t.dir, `.${n}.tsbeat-new`);
        writeFileSync(tmp, shimText(t.kind, n, o.node, agentJs), { mode: 0o755 });
        chmodSync(tmp, 0o755);
        renameSync(tmp, p);
      }
    }
  }
  if (!o.dryRun) {
    const problems = unreadableByOthers([o.node, agentJs, ...files.map((f) => join(o.libDir, f))]);
    for (const p of problems.slice(0, 5)) {
      process.stderr.write(`tsbeat install-agents: WARNING: user nobody cannot use ${p}\n`);
    }
    if (problems.length > 0) {
      process.stderr.write(
        'tsbeat install-agents: WARNING: ocf-tester runs meta-data as nobody and will fail\n',
      );
    }
  }
  say(`OCF agents: ${names.map((n) => `ocf:${o.provider}:${n}`).join(' ')}`);
  return 0;
}
