// Part: the director's configuration model — ldirectord.cf (heartbeat's ldirectord, the Debian
// 1:4.x package, `ldirectord(8)`) as typed data, plus the keepalived-style extensions tsbeat adds.

/** `gate` = direct routing (-g), `masq` = NAT (-m), `ipip` = tunnel (-i): ldirectord's words. */
export type Forward = 'gate' | 'masq' | 'ipip';

/** The ipvsadm flag of a forwarding method. */
export const FORWARD_FLAG: Readonly<Record<Forward, string>> = { gate: '-g', masq: '-m', ipip: '-i' };

export type Protocol = 'tcp' | 'udp' | 'fwm';

/**
 * `checktype`: a number N in the file becomes `combined` with `connectCount` N (N connect checks,
 * then one negotiate), as ldirectord does.
 */
export type CheckType =
  | 'connect'
  | 'negotiate'
  | 'ping'
  | 'external'
  | 'external-perl'
  | 'on'
  | 'off'
  | 'combined';

/** ldirectord's `service` words (negotiate checks). */
export const SERVICES = [
  'dns',
  'ftp',
  'http',
  'https',
  'http_proxy',
  'imap',
  'imaps',
  'ldap',
  'ldaps',
  'mysql',
  'nntp',
  'none',
  'oracle',
  'pop',
  'pops',
  'radius',
  'pgsql',
  'simpletcp',
  'sip',
  'smtp',
  'submission',
] as const;
export type Service = (typeof SERVICES)[number];

/** A `real=` line (one per address of a `a->b` range). */
export interface RealServer {
  readonly ip: string;
  /** 0 when the line gave none (fwmark services); the kernel then uses the virtual port. */
  readonly port: number;
  readonly forward: Forward;
  readonly weight: number;
  /** Per-real `"request", "receive"` pair (overrides the virtual's). */
  readonly request?: string;
  readonly receive?: string;
  /** `l:N` → `-y N`, `u:N` → `-x N`. */
  readonly lowerThreshold: number;
  readonly upperThreshold: number;
  readonly line: number;
}

/** `fallback=` (global or per virtual): never quiesced, always weight 1. */
export interface Fallback {
  readonly ip: string;
  /** undefined for a global fallback without port: the virtual's port is used. */
  readonly port?: number;
  readonly forward: Forward;
}

/** One `virtual=` block, with every default settled (ldirectord's `ld_setup`). */
export interface VirtualService {
  /** ldirectord's virtual id: `tcp:10.0.0.1:80`, `fwm:7`. */
  readonly id: string;
  readonly line: number;
  readonly protocol: Protocol;
  /** Address for tcp/udp; undefined for fwmark services. */
  readonly address?: string;
  /** Port for tcp/udp, 0 for fwmark. */
  readonly port: number;
  readonly fwmark?: number;
  readonly reals: readonly RealServer[];
  readonly checktype: CheckType;
  /** For `combined`: connect checks before each negotiate. */
  readonly connectCount: number;
  readonly service: Service;
  readonly checkcommand: string;
  readonly checkport?: number;
  /** Path with leading `/` (ldirectord adds it). */
  readonly request: string;
  /** Regular expression source; "" = any 2xx body. */
  readonly receive: string;
  readonly httpmethod: 'GET' | 'HEAD';
  readonly virtualhost?: string;
  readonly login: string;
  readonly passwd: string;
  readonly database: string;
  readonly secret: string;
  readonly scheduler: string;
  readonly persistent?: number;
  readonly netmask?: string;
  readonly schedflags?: string;
  readonly ops: boolean;
  readonly fallback?: Fallback;
  readonly fallbackcommand?: string;
  readonly quiescent: boolean;
  readonly cleanstop: boolean;
  readonly checktimeoutS: number;
  readonly negotiatetimeoutS: number;
  readonly checkintervalS: number;
  readonly failurecount: number;
  readonly checkcount: number;
  readonly emailalert?: string;
  readonly emailalertfreqS: number;
  readonly emailalertstatus: string;
  readonly monitorfile?: string;
  readonly servicename?: string;
  readonly comment?: string;
  // tsbeat extensions (keepalived's checker words; see DirectorExtensions below).
  readonly quorum?: number;
  readonly hysteresis: number;
  readonly quorumUp?: string;
  readonly quorumDown?: string;
  readonly successcount: number;
  /** Lower-case hex MD5 of the expected HTTP body (keepalived HTTP_GET `digest`). */
  readonly digest?: string;
}

/** The whole file. */
export interface DirectorConfig {
  /** The path given (for messages and autoreload). */
  readonly path: string;
  /** `basename(path)`: names the pid and state files, as ldirectord's CFGNAME. */
  readonly name: string;
  readonly virtuals: readonly VirtualService[];
  /** Global `checkinterval` (seconds between check rounds; per real in tsbeat). */
  readonly checkintervalS: number;
  readonly autoreload: boolean;
  readonly callback?: string;
  readonly logfile: string;
  readonly quiescent: boolean;
  readonly readdquiescent: boolean;
  readonly cleanstop: boolean;
  readonly supervised: boolean;
  readonly fork: boolean;
  readonly maintenancedir?: string;
  readonly fallbackcommand?: string;
  readonly emailalertfrom?: string;
  readonly smtp?: string;
  /** `execute=` other configurations (accepted; tsbeat runs one configuration per process). */
  readonly execute: readonly string[];
  /** Parallel checks at most (tsbeat extension `maxchecks`, default 64). */
  readonly maxChecks: number;
}

/** Directive names of the tsbeat extensions, for the parser and the documentation. */
export const EXTENSION_DIRECTIVES = [
  'quorum',
  'hysteresis',
  'quorum_up',
  'quorum_down',
  'successcount',
  'digest',
  'maxchecks',
] as const;
