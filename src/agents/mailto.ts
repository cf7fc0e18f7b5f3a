// Part: MailTo — a pseudo resource that mails the administrator when its group is taken over
// ("Takeover in progress") and given up ("Migrating resource away"), through the system mailer
// ($MAILCMD, default mail). Subjects, body and state file as ocf:heartbeat:MailTo 4.12 (spec §5.8).

import { hostname } from 'node:os';
import type { Agent, AgentRequest, AgentResult } from './agent.js';
import { ensureDir, isFile, removeFile, touch } from './files.js';
import type { AgentMetadata } from './metadata.js';
import { OCF } from './ocf.js';
import { haveBinary } from './runtime.js';

const SUBJECT_DEFAULT = 'Resource Group';

const metadata: AgentMetadata = {
  name: 'MailTo',
  version: '1.0',
  shortdesc: 'Notifies recipients by email in the event of resource takeover (tsbeat)',
  longdesc: `
Sends a mail through the system mailer ($MAILCMD, default "mail") when the resource starts
("<subject> Takeover in progress at <date> on <node>") and when it stops ("<subject> Migrating
resource away at <date> from <node>"). Running means the state file $HA_RSCTMP/MailTo_<instance>
exists.
`,
  parameters: [
    {
      name: 'email',
      type: 'string',
      required: true,
      unique: false,
      shortdesc: 'Email address',
      longdesc: 'The email address of the recipient (several: separated as the mailer accepts them).',
    },
    {
      name: 'subject',
      type: 'string',
      unique: false,
      default: SUBJECT_DEFAULT,
      shortdesc: 'Subject',
      longdesc: 'The start of the subject of the email.',
    },
  ],
  actions: [
    { name: 'start', timeout: '10s' },
    { name: 'stop', timeout: '10s' },
    { name: 'status', timeout: '10s' },
    { name: 'monitor', timeout: '10s', interval: '10s', depth: '0' },
    { name: 'meta-data', timeout: '5s' },
    { name: 'validate-all', timeout: '5s' },
  ],
};

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `date` in the C locale: "Sat Dec  5 03:10:00 UTC 2026" (local time, zone abbreviation). */
export function cDate(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const zone =
    new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
      .formatToParts(d)
      .find((p) => p.type === 'timeZoneName')?.value ?? '';
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${zone} ${d.getFullYear()}`;
}

/** The subject and body the stock agent sends (its here-document keeps the 8-blank indent). */
export function mailText(
  kind: 'start' | 'stop',
  subject: string,
  node: string,
  date: string,
  commandLine: string,
): { subject: string; body: string } {
  // SubjectLine: a subject of fewer than two characters is replaced by the default.
  const s = subject.length >= 2 ? subject : SUBJECT_DEFAULT;
  const full =
    kind === 'start'
      ? `${s} Takeover in progress at ${date} on ${node}`
      : `${s} Migrating resource away at ${date} from ${node}`;
  return { subject: full, body: `        ${full}\n \n        Command line was:\n        ${commandLine}\n` };
}

function stateFile(req: AgentRequest): string {
  return `${req.rscTmp}/MailTo_${req.instance}`;
}

function mailCommand(req: AgentRequest): string[] {
  return (req.env['MAILCMD'] ?? 'mail').split(/\s+/).filter(Boolean);
}

function validate(req: AgentRequest): AgentResult | undefined {
  if (req.param('email') === '')
    return { rc: OCF.ERR_CONFIGURED, reason: 'At least 1 Email address has to be given!' };
  const [cmd] = mailCommand(req);
  if (cmd === undefined)
    return { rc: OCF.ERR_INSTALLED, reason: 'MAILCMD not set: complain to the packager' };
  if (!haveBinary(cmd, req.env))
    return { rc: OCF.ERR_INSTALLED, reason: `Setup problem: couldn't find command: ${cmd}` };
  return undefined;
}

async function send(req: AgentRequest, kind: 'start' | 'stop'): Promise<void> {
  const argv0 = req.env['TSBEAT_ARGV0'] ?? '/usr/lib/ocf/resource.d/tsbeat/MailTo';
  const m = mailText(kind, req.param('subject'), hostname(), cDate(new Date()), `${argv0} ${kind}`);
  const [cmd = 'mail', ...pre] = mailCommand(req);
  const r = await req.runtime.runTool(cmd, [...pre, '-s', m.subject, req.param('email')], {
    input: m.body,
    signal: req.signal,
    timeoutMs: 60_000,
    env: { ...req.env },
  });
  // As the stock agent: a mail that could not be sent does not fail the resource.
  if (r.code !== 0) req.io.log('error', `${cmd} exited with ${r.code}: ${r.stderr.trim()}`);
}

async function run(req: AgentRequest): Promise<AgentResult> {
  const running = isFile(stateFile(req));
  switch (req.action) {
    case 'monitor':
      return { rc: running ? OCF.SUCCESS : OCF.NOT_RUNNING };
    case 'status':
      req.io.stdout(running ? 'running\n' : 'stopped\n');
      return { rc: running ? OCF.SUCCESS : OCF.NOT_RUNNING };
    case 'start': {
      const bad = validate(req);
      if (bad) return bad;
      // Every start mails, also a repeated one (the stock agent does; an operator may rely on it).
      await send(req, 'start');
      ensureDir(req.rscTmp);
      const err = touch(stateFile(req));
      return err === undefined
        ? { rc: OCF.SUCCESS }
        : { rc: OCF.ERR_GENERIC, reason: `Cannot create ${stateFile(req)}: ${err}` };
    }
    case 'stop': {
      // Stopping is always possible: with no address or no mailer there is just no mail.
      if (validate(req) === undefined) await send(req, 'stop');
      removeFile(stateFile(req));
      return { rc: OCF.SUCCESS };
    }
    default:
      return validate(req) ?? { rc: OCF.SUCCESS };
  }
}

/** The MailTo agent. heartbeat style: `MailTo::email[::subject]` (instance `MailTo`). */
export const mailTo: Agent = {
  metadata,
  actions: ['start', 'stop', 'monitor', 'status', 'validate-all'],
  run,
  heartbeat: {
    grammar: 'email [subject]',
    parse(args) {
      if (args.length < 1 || args.length > 2) return undefined;
      const [email = '', subject] = args;
      return { instance: 'MailTo', reskeys: { email, ...(subject !== undefined ? { subject } : {}) } };
    },
  },
};
