// Part: reads /etc/ha.d from disk (the only file-system user of src/config) and runs the
// pure parsers and checks over it, collecting every diagnostic before deciding.

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Diagnostic, hasErrors } from '../lib/diagnostic.js';
import { printable } from '../lib/printable.js';
import { authkeysModeProblem, parseAuthkeys } from './authkeys.js';
import { DEFAULT_UDP_PORT, parseHaCf } from './hacf.js';
import { type HaresourcesSource, parseHaresources } from './haresources.js';
import type { HostEnv } from './host.js';
import type { Config, ResourceGroupConfig } from './model.js';
import { validateCrossFile, validateHost } from './validate.js';

/** Config files are small; anything bigger is the wrong file (and must not exhaust memory). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export interface LoadOptions {
  /** The configuration directory, default /etc/ha.d. */
  readonly dir: string;
  /** Override the local node name (default: DIR/nodeinfo, else `uname -n`). */
  readonly localNode?: string;
  /** Host facts to check against; null skips host checks (a config for another machine). */
  readonly host: HostEnv | null;
  /** Fallback for the local node name when there is no host to ask. */
  readonly hostname?: string;
  /** The user tsbeat runs as (default: the effective uid), who may own authkeys besides root. */
  readonly runningUid?: number;
  /** tsbeat's built-in agents, to check their resources' arguments (injected by the CLI). */
  readonly agents?: BuiltinAgentCheck;
}

/** A problem a built-in agent's own validation found in a resource's arguments. */
export interface AgentProblem {
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly hint?: string;
}

/** What config needs to know of src/agents (which imports nothing from here). */
export interface BuiltinAgentCheck {
  isBuiltin(script: string): boolean;
  /**
   * The agent's validation of `Script::arg::...`; `local` false checks only what holds on every
   * node (a config checked for another machine).
   */
  validate(script: string, args: readonly string[], local: boolean): Promise<readonly AgentProblem[]>;
}

export interface LoadResult {
  /** Present when there are no errors. */
  readonly config?: Config;
  readonly diagnostics: readonly Diagnostic[];
  readonly localNode: string;
}

type ReadResult = { ok: true; bytes: Buffer } | { ok: false; diagnostic: Diagnostic };

async function readLimited(file: string, what: string): Promise<ReadResult> {
  try {
    const st = await stat(file);
    if (!st.isFile()) {
      return { ok: false, diagnostic: { severity: 'error', file, message: `${what} is not a regular file` } };
    }
    if (st.size > MAX_CONFIG_BYTES) {
      return {
        ok: false,
        diagnostic: {
          severity: 'error',
          file,
          message: `${what} is ${st.size} bytes, more than the ${MAX_CONFIG_BYTES} a configuration file can be`,
          hint: 'is this the right file?',
        },
      };
    }
    return { ok: true, bytes: await readFile(file) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // The diagnostic names the file already; Node's message would repeat the whole path.
    const message =
      code === 'ENOENT'
        ? `${what} not found`
        : code === 'EACCES'
          ? `cannot read ${what}: permission denied`
          : code === 'ENAMETOOLONG'
            ? `cannot read ${what}: the path is too long`
            : code === 'ENOTDIR'
              ? `cannot read ${what}: a part of the path is not a directory`
              : `cannot read ${what}: ${code ?? (e as Error).message}`;
    return { ok: false, diagnostic: { severity: 'error', file, message } };
  }
}

/**
 * Decode a text config file. Bytes that are not UTF-8 are accepted in comments (old
 * Latin-1 configs are common and heartbeat ignores comments) and reported elsewhere.
 */
export function decodeConfigText(
  bytes: Uint8Array,
  file: string,
): { text: string; diagnostics: Diagnostic[] } {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const diagnostics: Diagnostic[] = [];
  const lines: string[] = [];
  let start = 0;
  let lineNo = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const lineBytes = bytes.subarray(start, end);
    lineNo++;
    try {
      lines.push(decoder.decode(lineBytes));
    } catch {
      const hash = lineBytes.indexOf(0x23);
      const bad = firstInvalidUtf8(lineBytes);
      if (hash < 0 || bad < hash) {
        diagnostics.push({
          severity: 'error',
          file,
          line: lineNo,
          col: bad + 1,
          message: `byte 0x${lineBytes[bad]!.toString(16).padStart(2, '0')} is not UTF-8 text`,
          hint: 'save the file as UTF-8 (iconv -f latin1 -t utf-8), or remove the character',
        });
      }
      lines.push(Buffer.from(lineBytes).toString('latin1'));
    }
    if (end === bytes.length) break;
    start = end + 1;
  }
  return { text: lines.join('\n'), diagnostics };
}

/** Offset of the first byte that starts an invalid UTF-8 sequence (0 if none is found). */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const more =
      c < 0x80
        ? 0
        : c >= 0xc2 && c <= 0xdf
          ? 1
          : c >= 0xe0 && c <= 0xef
            ? 2
            : c >= 0xf0 && c <= 0xf4
              ? 3
              : -1;
    if (more < 0) return i;
    for (let k = 1; k <= more; k++) {
      const next = b[i + k];
      if (next === undefined || (next & 0xc0) !== 0x80) return i;
    }
    i += more + 1;
  }
  return 0;
}

async function localNodeName(
  opts: LoadOptions,
  nodeinfoFile: string,
): Promise<{ name: string; origin: string }> {
  if (opts.localNode) return { name: opts.localNode.toLowerCase(), origin: '--node' };
  try {
    const text = await readFile(nodeinfoFile, 'utf8');
    const first = text.split('\n')[0]?.trim();
    if (first) return { name: first.toLowerCase(), origin: nodeinfoFile };
  } catch {
    // no nodeinfo: use the host name, like heartbeat
  }
  const name = (opts.host?.hostname() ?? opts.hostname ?? 'localhost').toLowerCase();
  return { name, origin: '`uname -n`' };
}

/**
 * heartbeat checks only that authkeys is not readable by others (its owner is never looked
 * at); tsbeat accepts what heartbeat accepts but warns when another user owns the file or
 * may write it, since that user can then change the keys and read them.
 */
function authkeysOwnershipProblems(
  file: string,
  st: { uid: number; mode: number },
  opts: LoadOptions,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const me = opts.runningUid ?? process.geteuid?.() ?? 0;
  if (st.uid !== 0 && st.uid !== me) {
    const name = opts.host?.userName?.(st.uid);
    out.push({
      severity: 'warning',
      file,
      message: `owned by ${name !== undefined ? `${name} (uid ${st.uid})` : `uid ${st.uid}`}, not by root: that user can change the keys and read them (heartbeat does not check the owner)`,
      hint: `chown root:root ${file}`,
    });
  }
  if ((st.mode & 0o022) !== 0) {
    out.push({
      severity: 'warning',
      file,
      message: `permissions ${(st.mode & 0o777).toString(8).padStart(3, '0')} let other users change the keys (heartbeat accepts this)`,
      hint: `chmod 600 ${file}`,
    });
  }
  return out;
}

/** Read and check DIR/ha.cf, DIR/authkeys and DIR/haresources. */
export async function loadConfig(opts: LoadOptions): Promise<LoadResult> {
  const diagnostics: Diagnostic[] = [];
  const haCfFile = join(opts.dir, 'ha.cf');
  const authkeysFile = join(opts.dir, 'authkeys');
  const haresourcesFile = join(opts.dir, 'haresources');
  const { name: localNode, origin } = await localNodeName(opts, join(opts.dir, 'nodeinfo'));

  const [haCfRead, authRead, resRead] = await Promise.all([
    readLimited(haCfFile, 'ha.cf'),
    readLimited(authkeysFile, 'authkeys'),
    readLimited(haresourcesFile, 'haresources'),
  ]);

  let haCfText = '';
  if (haCfRead.ok) {
    const d = decodeConfigText(haCfRead.bytes, haCfFile);
    haCfText = d.text;
    diagnostics.push(...d.diagnostics);
  } else {
    diagnostics.push({
      ...haCfRead.diagnostic,
      hint: 'an annotated example is in etc/ha.d/ of tsbeat and in ha.cf(5)',
    });
  }
  const defaultUdpPort = opts.host?.haClusterUdpPort() ?? DEFAULT_UDP_PORT;
  const hacf = parseHaCf(haCfText, { file: haCfFile, localNode, defaultUdpPort });
  if (haCfRead.ok) diagnostics.push(...hacf.diagnostics);

  let keyring: Config['keyring'] | undefined;
  if (authRead.ok) {
    const st = await stat(authkeysFile);
    const problem = authkeysModeProblem(st.mode);
    if (problem) {
      diagnostics.push({
        severity: 'error',
        file: authkeysFile,
        message: problem,
        hint: `chmod 600 ${authkeysFile}`,
      });
    }
    diagnostics.push(...authkeysOwnershipProblems(authkeysFile, st, opts));
    const parsed = parseAuthkeys(authRead.bytes.toString('latin1'), authkeysFile);
    diagnostics.push(...parsed.diagnostics);
    keyring = parsed.keyring;
  } else {
    diagnostics.push({
      ...authRead.diagnostic,
      hint: 'create it with "auth 1" and "1 sha1 SECRET", mode 600, identical on all nodes',
    });
  }

  let groupsResult: ReturnType<typeof parseHaresources> | undefined;
  if (resRead.ok) {
    const d = decodeConfigText(resRead.bytes, haresourcesFile);
    diagnostics.push(...d.diagnostics);
    groupsResult = parseHaresources(d.text, haresourcesFile);
    diagnostics.push(...groupsResult.diagnostics);
  } else {
    diagnostics.push({ ...resRead.diagnostic, hint: 'create it (it may be empty), identical on all nodes' });
  }

  if (haCfRead.ok) {
    const input = {
      haCf: hacf.haCf,
      haCfSource: hacf.source,
      haCfFile,
      groups: groupsResult?.groups ?? [],
      groupsSource: groupsResult?.source ?? { groups: [] },
      haresourcesFile,
      localNode,
      localNodeOrigin: origin,
      scriptDirs: [join(opts.dir, 'resource.d'), '/etc/init.d'],
      ...(opts.agents ? { isBuiltinAgent: (s: string) => opts.agents?.isBuiltin(s) === true } : {}),
    };
    diagnostics.push(...validateCrossFile(input));
    if (opts.host) diagnostics.push(...validateHost(input, opts.host));
    if (opts.agents) diagnostics.push(...(await agentDiagnostics(input, opts.agents, opts.host !== null)));
  }

  const shown = diagnostics.map(printableDiagnostic);
  if (hasErrors(diagnostics) || !keyring || !groupsResult) return { diagnostics: shown, localNode };
  return {
    config: { dir: opts.dir, localNode, haCf: hacf.haCf, keyring, groups: groupsResult.groups },
    diagnostics: shown,
    localNode,
  };
}

/**
 * Diagnostics quote file contents and command-line paths; `tsbeat check` and `tsbeat start`
 * print them to a terminal. Control characters are escaped and each part is cut, so a
 * garbage file cannot rewrite the screen or flood it.
 */
function printableDiagnostic(d: Diagnostic): Diagnostic {
  return {
    ...d,
    file: printable(d.file, 300),
    message: printable(d.message, 1000),
    ...(d.hint !== undefined ? { hint: printable(d.hint, 500) } : {}),
  };
}

/** Each built-in resource's arguments through its agent's own validation, at its haresources position. */
async function agentDiagnostics(
  input: {
    readonly groups: readonly ResourceGroupConfig[];
    readonly groupsSource: HaresourcesSource;
    readonly haresourcesFile: string;
  },
  agents: BuiltinAgentCheck,
  local: boolean,
): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  for (const [gi, g] of input.groups.entries()) {
    for (const [ri, r] of g.resources.entries()) {
      if (!agents.isBuiltin(r.script)) continue;
      const at = input.groupsSource.groups[gi]?.resources[ri];
      for (const p of await agents.validate(r.script, r.args, local)) {
        out.push({
          severity: p.severity,
          file: input.haresourcesFile,
          ...(at ? { line: at.line, col: at.col } : {}),
          message: `${r.spec}: ${p.message}`,
          ...(p.hint !== undefined ? { hint: p.hint } : {}),
          agent: true,
        });
      }
    }
  }
  return out;
}
