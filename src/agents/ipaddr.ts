// Part: IPaddr — the legacy "IP alias" agent (ocf:heartbeat:IPaddr, 4.12): the address lives on
// an alias `<nic>:<n>`, reserved through hard links `$HA_RSCTMP/IPaddr-<nic>:<n>`, found again by
// its alias label. The stock agent drives ifconfig and route; tsbeat does the same with iproute2
// (`label <nic>:<n>` is exactly what ifconfig shows as an alias), so the kernel state is the same
// and ifconfig users see what they always saw.

import { linkSync, readdirSync } from 'node:fs';
import type { Agent, AgentRequest, AgentResult } from './agent.js';
import { announce, senderInstalled, stopAnnouncement } from './announce.js';
import { ensureDir, isFile, readText, removeFile, touch, writeText } from './files.js';
import { legacyFindif } from './findif.js';
import { ipSpecReskeys, parseIpSpec } from './hbargs.js';
import { dottedQuadToPrefix, isIpv4, isIpv6 } from './inet.js';
import {
  type IpAddress,
  type IpCommand,
  type IpSession,
  isSafeIpWord,
  parseAddresses,
  parseLinkNames,
  parseRoutes,
} from './ip.js';
import type { AgentMetadata } from './metadata.js';
import { isDecimal, OCF } from './ocf.js';
import { haveBinary } from './runtime.js';

const metadata: AgentMetadata = {
  name: 'IPaddr',
  version: '1.0',
  shortdesc: 'Manages virtual IPv4 addresses as interface aliases (tsbeat)',
  longdesc: `
Adds an IPv4 address as an alias interface (eth0:0, eth0:1, ...) on start and removes it on
stop, then announces it with gratuitous ARP. This is the older of the two address agents; new
configurations should use IPaddr2. tsbeat manages the alias with iproute2 labels, which is what
ifconfig displays as alias interfaces.
`,
  parameters: [
    {
      name: 'ip',
      type: 'string',
      unique: true,
      required: true,
      default: '',
      shortdesc: 'IPv4 address',
      longdesc: 'The virtual IPv4 address (dotted quad).',
    },
    {
      name: 'nic',
      type: 'string',
      unique: false,
      default: 'eth0',
      shortdesc: 'Network interface',
      longdesc: `The base interface for the alias. With a nic and no netmask the address is added as
a /32. Set it to the empty string to take interface and prefix from the routing table.`,
    },
    {
      name: 'cidr_netmask',
      type: 'string',
      default: '',
      shortdesc: 'Netmask',
      longdesc: 'Prefix length (24) or dotted-quad netmask (255.255.255.0) of the address.',
    },
    {
      name: 'broadcast',
      type: 'string',
      default: '',
      shortdesc: 'Broadcast address',
      longdesc: 'Broadcast address; by default the directed broadcast of the address and netmask.',
    },
    {
      name: 'iflabel',
      type: 'string',
      default: '',
      shortdesc: 'Interface label',
      longdesc: 'Accepted for compatibility and unused, as by the stock agent: aliases are numbered.',
    },
    {
      name: 'lvs_support',
      type: 'boolean',
      default: 'false',
      shortdesc: 'LVS direct routing support',
      longdesc: `If the address is on a loopback alias (lo:0) it counts as stopped; start moves it from
there to the nic (remembering the alias in HA_RSCTMP/<ip>) and stop puts it back.`,
    },
    {
      name: 'local_stop_script',
      type: 'string',
      default: '',
      shortdesc: 'Script run when a loopback address is taken over',
      longdesc: 'Executable run (with the address and alias) before a conflicting loopback alias is removed.',
    },
    {
      name: 'local_start_script',
      type: 'string',
      default: '',
      shortdesc: 'Script run before the address is added',
      longdesc: 'Executable run before the alias is configured on start.',
    },
    {
      name: 'ARP_INTERVAL_MS',
      type: 'integer',
      default: '500',
      shortdesc: 'Milliseconds between gratuitous ARP pairs',
      longdesc: 'Time from one gratuitous ARP request/reply pair to the next.',
    },
    {
      name: 'ARP_REPEAT',
      type: 'integer',
      default: '10',
      shortdesc: 'Gratuitous ARP pairs',
      longdesc: 'Number of gratuitous ARP request/reply pairs sent on start.',
    },
    {
      name: 'ARP_BACKGROUND',
      type: 'boolean',
      default: 'yes',
      shortdesc: 'Send ARP in the background',
      longdesc: '"yes": start returns while the announcement goes on.',
    },
    {
      name: 'ARP_NETMASK',
      type: 'string',
      default: 'ffffffffffff',
      shortdesc: 'Netmask for ARP',
      longdesc: 'Accepted for compatibility; the announcement does not use it (send_arp ignores it too).',
    },
  ],
  actions: [
    { name: 'start', timeout: '20s' },
    { name: 'stop', timeout: '20s' },
    { name: 'monitor', depth: '0', timeout: '20s', interval: '5s' },
    { name: 'monitor', depth: '10', timeout: '20s', interval: '10s' },
    { name: 'meta-data', timeout: '5s' },
    { name: 'validate-all', timeout: '20s' },
  ],
};

function cmd(json: boolean, ...args: string[]): IpCommand {
  return { args, json };
}

/** The stock agent's own lvs_support test (not `ocf_is_true`: "True" or "ja" are false here). */
function lvsOn(req: AgentRequest): boolean {
  return ['true', 'on', 'yes', '1'].includes(req.param('lvs_support'));
}

function baseOf(ifname: string): string {
  return ifname.split(':')[0] ?? ifname;
}

/** `find_interface`: the alias (a label with a colon) that carries the address, or ''. */
export function findAlias(addresses: readonly IpAddress[], ip: string): IpAddress | undefined {
  return addresses.find((a) => a.family === 'inet' && a.local === ip && a.label.includes(':'));
}

async function listAddresses(session: IpSession, signal: AbortSignal): Promise<IpAddress[] | undefined> {
  const [o] = await session.run([cmd(true, 'addr', 'show')], signal);
  return o?.ok ? parseAddresses(o.json) : undefined;
}

/** `ip_status_internal`. */
function statusOf(req: AgentRequest, addresses: readonly IpAddress[]): AgentResult {
  const alias = findAlias(addresses, req.param('ip'));
  if (alias === undefined) return { rc: OCF.NOT_RUNNING };
  if (lvsOn(req)) return { rc: alias.label.startsWith('lo') ? OCF.NOT_RUNNING : OCF.SUCCESS };
  const nic = req.param('nic');
  if (nic !== '' && baseOf(nic) !== baseOf(alias.label)) {
    req.io.log(
      'error',
      `${req.param('ip')} is running an interface (${baseOf(alias.label)}) instead of the configured one (${baseOf(nic)})`,
    );
    return { rc: OCF.ERR_GENERIC };
  }
  return { rc: OCF.SUCCESS };
}

/** Parameters after `ip_validate_all`. */
interface Validated {
  readonly ip: string;
  readonly nic: string;
  readonly bits: number;
  readonly netmaskDotted: string;
  readonly broadcast: string;
}

/** `ip_validate_all`, on the route table `ip` reported. */
async function validate(req: AgentRequest, session: IpSession): Promise<Validated | AgentResult> {
  const { io } = req;
  for (const name of ['ARP_INTERVAL_MS', 'ARP_REPEAT'] as const) {
    const v = req.param(name);
    if (!isDecimal(v) || Number(v) < 1) {
      return { rc: OCF.ERR_ARGS, reason: `Invalid parameter value: ${name} [${v}]` };
    }
  }
  const ip = req.param('ip');
  if (ip === '') return { rc: OCF.ERR_CONFIGURED, reason: 'Required parameter OCF_RESKEY_ip is missing' };
  if (!/^[0-9].*\.[0-9].*\.[0-9].*\..*[0-9]$/s.test(ip)) {
    // The stock IPaddr (4.12) is IPv4-only and refuses an IPv6 address with this same message
    // and code; we add the way out.
    const fix = isIpv6(ip) ? ': IPaddr manages IPv4 addresses only; use IPv6addr or IPaddr2 for IPv6' : '';
    return { rc: OCF.ERR_CONFIGURED, reason: `Parameter OCF_RESKEY_ip [${ip}] not an IP address${fix}` };
  }
  const nic = baseOf(req.param('nic'));
  const netmaskParam = req.param('cidr_netmask') !== '' ? req.param('cidr_netmask') : req.param('netmask');
  const queries: IpCommand[] = [cmd(true, 'addr', 'show')];
  // Never send what ip cannot parse: it would exit and end the batch.
  if (isIpv4(ip)) queries.push(cmd(true, 'route', 'list', 'match', ip));
  const answers = await session.run(queries, req.signal);
  const routes = isIpv4(ip) ? parseRoutes(answers[1]?.json) : [];
  const nicExists = nic !== '' && parseLinkNames(answers[0]?.json).has(nic);
  const found = legacyFindif(
    { ip, nic, netmask: netmaskParam, broadcast: req.param('broadcast') },
    routes,
    nicExists,
  );
  if (!found.ok) {
    io.log('error', found.message);
    io.log('error', `findif failed [rc=${found.rc}].`);
    // The stock agent turns every findif failure into 1; bad parameters are "not configured".
    return { rc: found.rc, reason: found.message };
  }
  if (req.param('nic') === '') io.log('info', `Using calculated nic for ${ip}: ${found.nic}`);
  if (netmaskParam !== found.netmask) io.log('info', `Using calculated netmask for ${ip}: ${found.netmask}`);
  const bits = Number(dottedQuadToPrefix(found.netmask).prefix);
  return { ip, nic: found.nic, bits, netmaskDotted: found.netmask, broadcast: found.broadcast };
}

function isResult(x: Validated | AgentResult): x is AgentResult {
  return 'rc' in x;
}

/**
 * `find_free_interface`: reserve `<nic>:<n>` with a hard link to `$HA_RSCTMP/IPaddr-<nic>`.
 * Synchronous inside the daemon because HA_RSCTMP is a tmpfs (see files.ts).
 */
export function reserveAlias(
  rscTmp: string,
  nic: string,
  addresses: readonly IpAddress[],
): string | undefined {
  ensureDir(rscTmp);
  const base = `${rscTmp}/IPaddr-${nic}`;
  if (touch(base) !== undefined) return undefined;
  const inUse = new Set(
    addresses.filter((a) => new RegExp(`^${escapeRe(nic)}:[0-9]`).test(a.label)).map((a) => a.label),
  );
  let links: string[] = [];
  try {
    links = readdirSync(rscTmp).filter((f) => f.startsWith(`IPaddr-${nic}:`));
  } catch {
    links = [];
  }
  let j = isFile(`${base}:${links.length}`) ? 0 : links.length;
  for (; j < 512; j++) {
    const alias = `${nic}:${j}`;
    if (inUse.has(alias)) continue;
    try {
      linkSync(base, `${base}:${j}`);
      return alias;
    } catch {
      // taken: next
    }
  }
  return undefined;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function runScript(
  req: AgentRequest,
  name: 'local_start_script' | 'local_stop_script',
  args: string[],
): Promise<void> {
  const script = req.param(name);
  if (script !== '' && haveBinary(script, { PATH: '' })) {
    await req.runtime.runTool(script, args, { signal: req.signal });
  }
}

async function start(req: AgentRequest, session: IpSession): Promise<AgentResult> {
  const { io } = req;
  const v = await validate(req, session);
  if (isResult(v)) return v;
  const addresses = await listAddresses(session, req.signal);
  if (addresses === undefined) return { rc: OCF.ERR_GENERIC, reason: 'ip failed' };
  if (statusOf(req, addresses).rc === OCF.SUCCESS) return { rc: OCF.SUCCESS };
  const alias = reserveAlias(req.rscTmp, v.nic, addresses);
  if (alias === undefined) {
    io.log('error', `No free interface found for ${v.ip}`);
    return { rc: OCF.ERR_GENERIC, reason: `No free interface found for ${v.ip}` };
  }
  if (lvsOn(req)) {
    const current = findAlias(addresses, v.ip);
    if (alias.startsWith('lo') && current?.label === alias) {
      return { rc: OCF.ERR_GENERIC, reason: `Could not find a non-loopback device to move ${v.ip} to` };
    }
    // The stock agent also "removes" when the address is nowhere (writing an empty state file);
    // only a real loopback alias is moved here.
    if (current !== undefined) {
      io.log('info', `Removing conflicting loopback ${current.label}.`);
      if (writeText(`${req.rscTmp}/${v.ip}`, `${current.label}\n`, 0o644) !== undefined) {
        io.log('error', `Could not save conflicting loopback ${current.label}. it will not be restored.`);
      }
      await runScript(req, 'local_stop_script', [v.ip, current.label]);
      io.log(
        'info',
        `ip addr delete ${v.ip}/${current.prefixlen} dev ${current.ifname} (alias ${current.label})`,
      );
      const out = await session.run(
        [
          cmd(false, 'addr', 'delete', `${v.ip}/${current.prefixlen}`, 'dev', current.ifname),
          cmd(false, 'route', 'delete', `${v.ip}/32`),
        ],
        req.signal,
      );
      if (out[0] && !out[0].ok) io.log('error', out[0].error);
      if (out[1] && !out[1].ok) io.stderr(`${out[1].error}\n`);
    }
  }
  await runScript(req, 'local_start_script', []);
  const add = cmd(
    false,
    'addr',
    'add',
    `${v.ip}/${v.bits}`,
    'brd',
    v.broadcast,
    'dev',
    v.nic,
    'label',
    alias,
  );
  io.log('info', `ip ${add.args.join(' ')}`);
  const [added, up] = await session.run([add, cmd(false, 'link', 'set', v.nic, 'up')], req.signal);
  if (!added?.ok || !up?.ok) {
    const err = (!added?.ok ? added?.error : up?.error) ?? '';
    if (err !== '') io.log('error', err);
    removeFile(`${req.rscTmp}/IPaddr-${alias}`);
    return { rc: OCF.ERR_GENERIC, reason: `Could not add ${v.ip} to ${v.nic}: rc=1` };
  }
  if (senderInstalled(req, 'tsbeat') === undefined) {
    await announce(req, {
      plan: {
        nic: v.nic,
        ip: v.ip,
        pairs: Number(req.param('ARP_REPEAT')),
        intervalMs: Number(req.param('ARP_INTERVAL_MS')),
      },
      sender: 'tsbeat',
      background: req.param('ARP_BACKGROUND') === 'yes',
      level: 'debug',
    });
  } else {
    io.log('warn', `arping not installed: no gratuitous ARP for ${v.ip}`);
  }
  const after = await listAddresses(session, req.signal);
  return after === undefined ? { rc: OCF.ERR_GENERIC } : statusOf(req, after);
}

async function stop(req: AgentRequest, session: IpSession): Promise<AgentResult> {
  const { io } = req;
  const ip = req.param('ip');
  stopAnnouncement(req, ip);
  const addresses = await listAddresses(session, req.signal);
  if (addresses === undefined) return { rc: OCF.ERR_GENERIC, reason: 'ip failed' };
  const alias = findAlias(addresses, ip);
  if (alias === undefined) return { rc: OCF.SUCCESS };
  if (lvsOn(req) && alias.label.startsWith('lo')) return { rc: OCF.SUCCESS };
  io.log('info', `ip addr delete ${ip}/${alias.prefixlen} dev ${alias.ifname} (alias ${alias.label})`);
  const [route, del] = await session.run(
    [
      cmd(false, 'route', 'delete', `${ip}/32`),
      cmd(false, 'addr', 'delete', `${ip}/${alias.prefixlen}`, 'dev', alias.ifname),
    ],
    req.signal,
  );
  if (route && !route.ok) io.stderr(`${route.error}\n`);
  let rc: number = OCF.SUCCESS;
  if (!del?.ok) {
    if (del?.error) io.log('error', del.error);
    rc = OCF.ERR_GENERIC;
  }
  if (lvsOn(req)) {
    const stateFile = `${req.rscTmp}/${ip}`;
    const saved = (readText(stateFile) ?? '').trim();
    if (saved !== '' && isSafeIpWord(saved)) {
      io.log('info', `Restoring loopback IP Address ${ip} on ${saved}.`);
      // The C findif with nic=<alias> and a /32 gives broadcast = the address itself.
      const restore = cmd(false, 'addr', 'add', `${ip}/32`, 'brd', ip, 'dev', baseOf(saved), 'label', saved);
      io.log('info', `ip ${restore.args.join(' ')}`);
      const [r] = await session.run([restore, cmd(false, 'link', 'set', baseOf(saved), 'up')], req.signal);
      if (r && !r.ok) io.log('error', r.error);
      removeFile(stateFile);
    }
  }
  removeFile(`${req.rscTmp}/IPaddr-${alias.label}`);
  if (rc !== OCF.SUCCESS) {
    io.log('warn', `IP Address ${ip} NOT released: rc=${rc}`);
    return { rc, reason: `IP Address ${ip} NOT released` };
  }
  return { rc };
}

async function monitor(req: AgentRequest, session: IpSession): Promise<AgentResult> {
  const addresses = await listAddresses(session, req.signal);
  if (addresses === undefined) return { rc: OCF.ERR_GENERIC, reason: 'ip failed' };
  const r = statusOf(req, addresses);
  if (req.checkLevel === 0 || r.rc !== OCF.SUCCESS || req.action !== 'monitor') return r;
  req.io.log('info', 'Checking IP stack');
  let last = '';
  for (let i = 0; i < 10; i++) {
    const p = await req.runtime.runTool('ping', ['-c', '1', '-q', '-n', '-W', '1', req.param('ip')], {
      signal: req.signal,
    });
    if (p.code === 0) return { rc: OCF.SUCCESS };
    last = `${p.stdout}${p.stderr}`.trim();
  }
  req.io.log('error', last);
  return { rc: OCF.ERR_GENERIC };
}

async function run(req: AgentRequest): Promise<AgentResult> {
  if (!haveBinary('ip', req.env)) {
    if (req.action === 'stop') return { rc: OCF.SUCCESS };
    if (req.probe) return { rc: OCF.NOT_RUNNING };
    return { rc: OCF.ERR_INSTALLED, reason: "Setup problem: couldn't find command: ip" };
  }
  if ((req.action === 'start' || req.action === 'stop') && !req.runtime.isRoot()) {
    return { rc: OCF.ERR_PERM, reason: `You must be root for ${req.action} operation.` };
  }
  const session = req.runtime.openIp({});
  try {
    switch (req.action) {
      case 'start':
        return await start(req, session);
      case 'stop':
        return await stop(req, session);
      case 'status': {
        const r = await monitor(req, session);
        req.io.stdout(
          r.rc === OCF.SUCCESS ? 'running\n' : r.rc === OCF.NOT_RUNNING ? 'stopped\n' : 'unknown\n',
        );
        return r;
      }
      case 'monitor':
        return await monitor(req, session);
      default: {
        const v = await validate(req, session);
        return isResult(v) ? v : { rc: OCF.SUCCESS };
      }
    }
  } finally {
    session.close();
  }
}

/** The legacy IPaddr agent. heartbeat style: `IPaddr::ip[/bits[/nic[/broadcast]]]`, no LVS. */
export const ipaddr: Agent = {
  metadata,
  actions: ['start', 'stop', 'status', 'monitor', 'validate-all'],
  run,
  heartbeat: {
    grammar: 'ip-address[/netmaskbits[/interface[:label][/broadcast]]]',
    parse(args) {
      const [arg] = args;
      if (args.length !== 1 || arg === undefined) return undefined;
      const spec = parseIpSpec(arg);
      return { instance: `IPaddr_${spec.ip}`, reskeys: { ...ipSpecReskeys(spec), lvs_support: '0' } };
    },
  },
};
