// Part: drbddisk — make a DRBD resource Primary on start and Secondary on stop, with
// `drbdadm primary|secondary|role`. The heartbeat-style script is drbd-utils' drbddisk
// (dropped from drbd-utils' packaging; spec §5.5): 6 attempts 1 s apart to promote, 3 to demote,
// its status words and exit codes. The OCF form ("ocf:tsbeat:drbddisk") is the same logic as a
// plain primitive: running = Primary.

import type { Agent, AgentRequest, AgentResult, OcfCall } from './agent.js';
import { runOcfAction } from './agent.js';
import { readText } from './files.js';
import type { AgentMetadata } from './metadata.js';
import { OCF } from './ocf.js';
import { haveBinary } from './runtime.js';
import { sleepMs } from './sleep.js';

/** heartbeat's drbddisk: `try=6` for primary, `try=3` for secondary, `sleep 1` between. */
export const PROMOTE_ATTEMPTS = 6;
export const DEMOTE_ATTEMPTS = 3;
const RETRY_PAUSE_MS = 1000;

const metadata: AgentMetadata = {
  name: 'drbddisk',
  version: '1.0',
  shortdesc: 'Promotes/demotes a DRBD resource (tsbeat)',
  longdesc: `
Makes a DRBD resource Primary on start ("drbdadm primary", up to 6 attempts 1 s apart, as
heartbeat's drbddisk) and Secondary on stop ("drbdadm secondary", up to 3 attempts). Running
means the local role is Primary. Use it before a Filesystem on the DRBD device, in the same group.
`,
  parameters: [
    {
      name: 'drbd_resource',
      type: 'string',
      required: true,
      unique: true,
      shortdesc: 'DRBD resource name',
      longdesc: 'The name of the DRBD resource (as in drbd.conf).',
    },
    {
      name: 'drbdadm',
      type: 'string',
      unique: false,
      default: '/sbin/drbdadm',
      shortdesc: 'drbdadm program',
      longdesc: 'Path of drbdadm (heartbeat style: DRBDADM= in /etc/default/drbd).',
    },
    {
      name: 'drbdconf',
      type: 'string',
      unique: false,
      default: '',
      shortdesc: 'drbd.conf to use',
      longdesc: "Passed to drbdadm as -c FILE when set; empty uses drbdadm's default configuration.",
    },
  ],
  actions: [
    { name: 'start', timeout: '20s' },
    { name: 'stop', timeout: '20s' },
    { name: 'monitor', timeout: '20s', interval: '20s', depth: '0' },
    { name: 'meta-data', timeout: '5s' },
    { name: 'validate-all', timeout: '5s' },
  ],
};

/** What `drbdadm role` said, reduced to the local role. */
export type DrbdRole = 'Primary' | 'Secondary' | 'Unconfigured' | string;

/** The local role from `drbdadm role` output ("Primary/Secondary" → "Primary"), as `${ST%/*}`. */
export function localRole(output: string): DrbdRole {
  const st = output.replace(/\n+$/, '');
  const slash = st.lastIndexOf('/');
  return slash === -1 ? st : st.slice(0, slash);
}

/**
 * The role from /proc/drbd's line for a minor (`" 0: cs:Connected ro:Primary/Secondary ..."`),
 * the fallback heartbeat's script uses when drbdadm cannot say.
 */
export function roleFromProcDrbd(procDrbd: string, minor: number): DrbdRole {
  for (const line of procDrbd.split('\n')) {
    const m = /^\s*([0-9]+): cs:\S+ ro:([^/\s]*)\//.exec(line);
    if (m && Number(m[1]) === minor) return m[2] || 'Unconfigured';
  }
  return 'Unconfigured';
}

/**
 * Status words for a role. heartbeat's ResourceManager owns a resource when its status output
 * says "running" without a "not ... running" before it. The stock script's unknown-state text
 * "cannot determine status, may be running" is meant to look running (so a failed stop ends in
 * recovery instead of a second Primary) but "cannot ... running" matches the "not running" glob;
 * tsbeat says "unknown status, may be running", which classifies as running, as intended.
 */
export function statusLine(role: DrbdRole): { text: string; lsb: number } {
  if (role === 'Primary') return { text: 'running (Primary)', lsb: 0 };
  if (role === 'Secondary' || role === 'Unconfigured') return { text: `stopped (${role})`, lsb: 3 };
  return { text: `unknown status, may be running (${role})`, lsb: 4 };
}

interface Drbd {
  readonly res: string;
  run(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

function drbdOf(req: AgentRequest, res: string): Drbd {
  const exe = req.param('drbdadm') || '/sbin/drbdadm';
  const conf = req.param('drbdconf');
  const pre = conf !== '' ? ['-c', conf] : [];
  return {
    res,
    run: (args) =>
      req.runtime.runTool(exe, [...pre, ...args], {
        signal: req.signal,
        timeoutMs: 60_000,
        env: { ...req.env },
      }),
  };
}

async function role(d: Drbd): Promise<DrbdRole> {
  const r = await d.run(['role', d.res]);
  const rl = localRole(r.stdout);
  if (r.code === 0 && ['Primary', 'Secondary', 'Unconfigured'].includes(rl)) return rl;
  // As heartbeat's script: drbdadm may fail for odd reasons (a read-only /var/lock); ask the kernel.
  const proc = readText('/proc/drbd');
  if (proc === undefined) return 'Unconfigured';
  const dev = (await d.run(['sh-dev', d.res])).stdout.trim();
  let minor = dev.replace(/^\/dev\/drbd/, '');
  if (!/^[0-9]+$/.test(minor)) minor = (await d.run(['sh-minor', d.res])).stdout.trim();
  if (!/^[0-9]+$/.test(minor)) return rl === '' ? 'Unknown' : rl;
  return roleFromProcDrbd(proc, Number(minor));
}

/** `drbdadm <verb> <res>` up to `attempts` times, 1 s apart; the last failure's text, or undefined. */
async function retry(
  req: AgentRequest,
  d: Drbd,
  verb: string,
  attempts: number,
): Promise<string | undefined> {
  let last = '';
  for (let i = 1; i <= attempts; i++) {
    const r = await d.run([verb, d.res]);
    if (r.stdout !== '') req.io.stdout(r.stdout);
    if (r.stderr !== '') req.io.stderr(r.stderr);
    if (r.code === 0) return undefined;
    last = `exit ${r.code}${r.stderr.trim() !== '' ? `: ${r.stderr.trim().split('\n').pop()}` : ''}`;
    req.io.log('warn', `drbdadm ${verb} ${d.res} failed (attempt ${i} of ${attempts}, ${last})`);
    if (i < attempts && (await sleepMs(RETRY_PAUSE_MS, req.signal))) break;
  }
  return last;
}

async function run(req: AgentRequest): Promise<AgentResult> {
  const res = req.param('drbd_resource');
  const exe = req.param('drbdadm') || '/sbin/drbdadm';
  const installed = haveBinary(exe, req.env);
  if (req.action === 'stop' && res === '') return { rc: OCF.SUCCESS };
  if (res === '') return { rc: OCF.ERR_CONFIGURED, reason: 'drbd_resource is not set' };
  if (!/^[A-Za-z0-9_.:-]+$/.test(res))
    return { rc: OCF.ERR_CONFIGURED, reason: `drbd_resource "${res}" is not a DRBD resource name` };
  if (!installed) {
    if (req.action === 'stop') return { rc: OCF.SUCCESS };
    if (req.action === 'monitor' && req.probe) return { rc: OCF.NOT_RUNNING };
    return { rc: OCF.ERR_INSTALLED, reason: `Setup problem: couldn't find command: ${exe}` };
  }
  const d = drbdOf(req, res);
  switch (req.action) {
    case 'start': {
      const failed = await retry(req, d, 'primary', PROMOTE_ATTEMPTS);
      return failed === undefined
        ? { rc: OCF.SUCCESS }
        : {
            rc: OCF.ERR_GENERIC,
            reason: `drbdadm primary ${res} failed ${PROMOTE_ATTEMPTS} times (${failed})`,
          };
    }
    case 'stop': {
      // Stopping a stopped resource succeeds (the stock script would fail 3 times on an
      // unconfigured one); "all" has no single role, so it is always demoted.
      const before = res === 'all' ? 'all' : await role(d);
      if (before === 'Secondary' || before === 'Unconfigured') return { rc: OCF.SUCCESS };
      const failed = await retry(req, d, 'secondary', DEMOTE_ATTEMPTS);
      return failed === undefined
        ? { rc: OCF.SUCCESS }
        : {
            rc: OCF.ERR_GENERIC,
            reason: `drbdadm secondary ${res} failed ${DEMOTE_ATTEMPTS} times (${failed})`,
          };
    }
    case 'monitor':
    case 'status': {
      const rl = await role(d);
      const line = statusLine(rl);
      if (req.action === 'status') req.io.stdout(`${line.text}\n`);
      if (line.lsb === 0) return { rc: OCF.SUCCESS };
      if (line.lsb === 3) return { rc: OCF.NOT_RUNNING };
      return { rc: OCF.ERR_GENERIC, reason: `cannot determine the role of ${res} (${rl})` };
    }
    default:
      return { rc: OCF.SUCCESS };
  }
}

/** `DRBDADM=...` from /etc/default/drbd (the stock script sources it; we read the one assignment). */
export function drbdadmFromDefaults(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  let found: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?DRBDADM=["']?([^"'\s#]+)["']?\s*(?:#.*)?$/.exec(line);
    if (m?.[1]) found = m[1];
  }
  return found;
}

/**
 * heartbeat's drbddisk script, whole: `drbddisk [resource] start|stop|status` (resource
 * defaults to "all"); start/stop exit 0 or 1 (LSB generic error), status prints its words and
 * exits 0/3/4, or 10 for "all"; anything else prints the usage and exits 1.
 */
async function heartbeatScript(args: readonly string[], action: string, call: OcfCall): Promise<number> {
  const usage = (): number => {
    call.io.stdout('Usage: drbddisk [resource] {start|stop|status}\n');
    return 1;
  };
  if (args.length > 1) return usage();
  const res = args[0] ?? 'all';
  const drbdadm =
    call.env['OCF_RESKEY_drbdadm'] ?? drbdadmFromDefaults(readText('/etc/default/drbd')) ?? '/sbin/drbdadm';
  const env = {
    ...call.env,
    OCF_RESOURCE_INSTANCE: `drbddisk_${res}`,
    OCF_RESKEY_drbd_resource: res,
    OCF_RESKEY_drbdadm: drbdadm,
  };
  switch (action) {
    case 'start':
    case 'stop': {
      const rc = await runOcfAction(drbddisk, action, { ...call, env });
      return rc === OCF.SUCCESS ? 0 : 1;
    }
    case 'status': {
      if (res === 'all') {
        call.io.stdout('A resource name is required for status inquiries.\n');
        return 10;
      }
      let text = '';
      const rc = await runOcfAction(drbddisk, 'status', {
        ...call,
        env,
        io: {
          ...call.io,
          stdout: (t) => {
            text += t;
          },
          exitReason: () => {},
        },
      });
      call.io.stdout(text);
      if (rc === OCF.SUCCESS) return 0;
      if (rc === OCF.NOT_RUNNING) return 3;
      return text === '' ? 1 : 4;
    }
    default:
      return usage();
  }
}

/** The drbddisk agent. heartbeat style: `drbddisk[::resource]` (default "all"). */
export const drbddisk: Agent = {
  metadata,
  actions: ['start', 'stop', 'monitor', 'status', 'validate-all'],
  run,
  heartbeat: {
    grammar: '[resource]',
    parse(args) {
      if (args.length > 1) return undefined;
      const res = args[0] ?? 'all';
      return { instance: `drbddisk_${res}`, reskeys: { drbd_resource: res } };
    },
    script: heartbeatScript,
  },
};
