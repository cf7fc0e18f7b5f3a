// Part: the one table of heartbeat's wire field names and the readable names tsbeat uses
// for them, with readable accessors. The wire spellings (`t`, `hg`, `ts`, ...) are
// PROTOCOL: they come from cluster-glue include/ha_msg.h (F_* macros) and heartbeat's
// rc.d scripts, and a real node matches them byte for byte. Never rename a wire key.

import { latin1 } from './bytes.js';
import { type Field, getBinary, getString, type Message } from './model.js';

/**
 * How a value is written: `text` as is; `hex` lowercase hex without 0x (sprintf "%lx");
 * `decimal`; `uuid` 16 raw bytes; `rexmitSeqno` is decimal in `NS_rexmit` and hex in
 * `NS_nak_rexmit` (heartbeat.c uses atoi() for one and "%lx" for the other).
 */
export type WireValueFormat = 'text' | 'hex' | 'decimal' | 'uuid' | 'rexmitSeqno' | 'bytes';

export interface WireKey {
  readonly wire: string;
  readonly readable: string;
  readonly format: WireValueFormat;
  readonly note: string;
}

/** Readable name -> wire key. Spelling of `wire` is protocol; `readable` is ours. */
export const WIRE_KEYS = {
  type: {
    wire: 't',
    readable: 'type',
    format: 'text',
    note: 'message type (F_TYPE), e.g. status, NS_ackmsg',
  },
  subtype: {
    wire: 'subt',
    readable: 'subtype',
    format: 'text',
    note: 'message subtype (F_SUBTYPE), API traffic',
  },
  status: {
    wire: 'st',
    readable: 'status',
    format: 'text',
    note: 'node status: init, up, active, dead (F_STATUS)',
  },
  source: { wire: 'src', readable: 'source', format: 'text', note: 'sending node name, lowercase (F_ORIG)' },
  sourceUuid: {
    wire: 'srcuuid',
    readable: 'sourceUuid',
    format: 'uuid',
    note: 'sending node uuid, 16 raw bytes (F_ORIGUUID)',
  },
  destination: {
    wire: 'dest',
    readable: 'destination',
    format: 'text',
    note: 'addressee node name, optional (F_TO)',
  },
  destinationUuid: {
    wire: 'destuuid',
    readable: 'destinationUuid',
    format: 'uuid',
    note: 'addressee uuid (F_TOUUID)',
  },
  seqno: {
    wire: 'seq',
    readable: 'seqno',
    format: 'hex',
    note: 'per-process sequence number from 1; absent on NS_ types (F_SEQ)',
  },
  generation: {
    wire: 'hg',
    readable: 'generation',
    format: 'hex',
    note: 'heartbeat generation, +1 per start (F_HBGENERATION)',
  },
  timestampS: {
    wire: 'ts',
    readable: 'timestampS',
    format: 'hex',
    note: 'sender wall clock, seconds, hex (F_TIME)',
  },
  loadAverage: {
    wire: 'ld',
    readable: 'loadAverage',
    format: 'text',
    note: '/proc/loadavg of the sender (F_LOAD)',
  },
  ttl: {
    wire: 'ttl',
    readable: 'ttl',
    format: 'decimal',
    note: 'node count + hopfudge; unused by receivers (F_TTL)',
  },
  auth: {
    wire: 'auth',
    readable: 'auth',
    format: 'text',
    note: 'inner classic auth "<index> <digest>" (F_AUTH)',
  },
  deadtimeMs: {
    wire: 'dt',
    readable: 'deadtimeMs',
    format: 'hex',
    note: "sender's dead time in ms, hex (F_DT)",
  },
  protocolVersion: {
    wire: 'protocol',
    readable: 'protocolVersion',
    format: 'decimal',
    note: 'flow-control protocol version, 1 (F_PROTOCOL)',
  },
  firstSeqno: {
    wire: 'firstseq',
    readable: 'firstSeqno',
    format: 'rexmitSeqno',
    note: 'first seq to retransmit: DECIMAL in NS_rexmit, hex in NS_nak_rexmit (F_FIRSTSEQ)',
  },
  lastSeqno: {
    wire: 'lastseq',
    readable: 'lastSeqno',
    format: 'decimal',
    note: 'last seq to retransmit, DECIMAL (F_LASTSEQ)',
  },
  ackSeqno: {
    wire: 'ackseq',
    readable: 'ackSeqno',
    format: 'hex',
    note: 'highest seq acknowledged, hex (F_ACKSEQ)',
  },
  info: { wire: 'info', readable: 'info', format: 'text', note: 'comment / reason (F_COMMENT)' },
  node: { wire: 'node', readable: 'node', format: 'text', note: 'node being described (F_NODE)' },
  nodeList: {
    wire: 'nodelist',
    readable: 'nodeList',
    format: 'text',
    note: 'node names, each followed by a space (F_NODELIST)',
  },
  deletedNodeList: {
    wire: 'delnodelist',
    readable: 'deletedNodeList',
    format: 'text',
    note: 'deleted node names (F_DELNODELIST)',
  },
  resourcesHeld: {
    wire: 'rsc_hold',
    readable: 'resourcesHeld',
    format: 'text',
    note: 'none|local|foreign|all (F_RESOURCES)',
  },
  resourcesReportType: {
    wire: 'rtype',
    readable: 'resourcesReportType',
    format: 'text',
    note: 'full: replaces, else OR-ed (F_RTYPE)',
  },
  isStable: {
    wire: 'isstable',
    readable: 'isStable',
    format: 'text',
    note: '1 = resource transition done (F_ISSTABLE)',
  },
  resourceGroup: {
    wire: 'ipaddr',
    readable: 'resourceGroup',
    format: 'text',
    note: 'resource group key in ip-request(-resp)',
  },
  weOwn: { wire: 'weown', readable: 'weOwn', format: 'text', note: 'yes|no in ip-request-resp' },
  ok: { wire: 'ok', readable: 'ok', format: 'text', note: 'OK in ip-request-resp' },
  result: { wire: 'result', readable: 'result', format: 'text', note: 'stonith / API result (F_APIRESULT)' },
  weight: { wire: 'weight', readable: 'weight', format: 'text', note: 'node weight (F_WEIGHT)' },
  site: { wire: 'site', readable: 'site', format: 'text', note: 'node site (F_SITE)' },
  clientName: { wire: 'cn', readable: 'clientName', format: 'text', note: 'API client name (F_CLIENTNAME)' },
  clientStatus: {
    wire: 'cs',
    readable: 'clientStatus',
    format: 'text',
    note: 'API client status (F_CLIENTSTATUS)',
  },
  fromClientId: {
    wire: 'from_id',
    readable: 'fromClientId',
    format: 'text',
    note: 'API client id (F_FROMID)',
  },
  toClientId: { wire: 'to_id', readable: 'toClientId', format: 'text', note: 'API client id (F_TOID)' },
  clientGeneration: {
    wire: 'client_gen',
    readable: 'clientGeneration',
    format: 'text',
    note: 'API client generation',
  },
  apiRequest: {
    wire: 'reqtype',
    readable: 'apiRequest',
    format: 'text',
    note: 'API request type (F_APIREQ)',
  },
  interfaceName: {
    wire: 'ifname',
    readable: 'interfaceName',
    format: 'text',
    note: 'interface name (F_IFNAME)',
  },
  compressedPayload: {
    wire: '_compressed_payload',
    readable: 'compressedPayload',
    format: 'bytes',
    note: 'traditional compression payload',
  },
  compressionAlgorithm: {
    wire: '_compression_algorithm',
    readable: 'compressionAlgorithm',
    format: 'text',
    note: 'zlib or bz2',
  },
} as const satisfies Record<string, WireKey>;

export type ReadableKey = keyof typeof WIRE_KEYS;

const BY_WIRE: ReadonlyMap<string, WireKey> = new Map(Object.values(WIRE_KEYS).map((k) => [k.wire, k]));

/** The table entry for a wire key, if it is one we know. */
export function wireKey(wire: string): WireKey | undefined {
  return BY_WIRE.get(wire);
}

/** Message types, as sent: protocol spelling (T_* in ha_msg.h, plus R1 script types). */
export const MESSAGE_TYPES = {
  status: 'status',
  ackMessage: 'NS_ackmsg',
  rexmitRequest: 'NS_rexmit',
  rexmitNak: 'NS_nak_rexmit',
  pingStatus: 'NS_st',
  requestNodes: 'reqnodes',
  replyNodes: 'repnodes',
  starting: 'starting',
  resources: 'resource',
  askResources: 'ask_resources',
  takeover: 'hb_takeover',
  ipRequest: 'ip-request',
  ipRequestResponse: 'ip-request-resp',
  shutdownDone: 'shutdone',
  stonith: 'stonith',
} as const;

/** Types starting with this carry no seq/ld and bypass sequence processing (NOSEQ_PREFIX). */
export const NO_SEQNO_PREFIX = 'NS_';

/**
 * Hex as heartbeat's sscanf("%lx") reads it: optional 0x, upper or lower case. Limited to
 * 13 digits so the number stays exact in a double.
 */
export function parseHex(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(?:0[xX])?([0-9a-fA-F]{1,13})$/.exec(text);
  return m ? Number.parseInt(m[1]!, 16) : undefined;
}

/** Decimal as written by heartbeat ("%d"); 15 digits at most. */
export function parseDecimal(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  return /^[0-9]{1,15}$/.test(text) ? Number.parseInt(text, 10) : undefined;
}

/** How heartbeat writes hex fields: lowercase, no 0x, no padding. */
export function formatHex(n: number): string {
  return n.toString(16);
}

function uuid(msg: Message, wire: string): Uint8Array | undefined {
  const v = getBinary(msg, wire);
  return v?.length === 16 ? v : undefined;
}

// Readable accessors. Each returns undefined when the field is absent or unreadable.
export const messageType = (m: Message): string | undefined => getString(m, WIRE_KEYS.type.wire);
export const nodeStatus = (m: Message): string | undefined => getString(m, WIRE_KEYS.status.wire);
export const sourceNode = (m: Message): string | undefined => getString(m, WIRE_KEYS.source.wire);
export const sourceUuid = (m: Message): Uint8Array | undefined => uuid(m, WIRE_KEYS.sourceUuid.wire);
export const destinationNode = (m: Message): string | undefined => getString(m, WIRE_KEYS.destination.wire);
export const destinationUuid = (m: Message): Uint8Array | undefined =>
  uuid(m, WIRE_KEYS.destinationUuid.wire);
export const seqno = (m: Message): number | undefined => parseHex(getString(m, WIRE_KEYS.seqno.wire));
export const generation = (m: Message): number | undefined =>
  parseHex(getString(m, WIRE_KEYS.generation.wire));
export const timestampS = (m: Message): number | undefined =>
  parseHex(getString(m, WIRE_KEYS.timestampS.wire));
export const loadAverage = (m: Message): string | undefined => getString(m, WIRE_KEYS.loadAverage.wire);
export const ttl = (m: Message): number | undefined => parseDecimal(getString(m, WIRE_KEYS.ttl.wire));
export const deadtimeMs = (m: Message): number | undefined =>
  parseHex(getString(m, WIRE_KEYS.deadtimeMs.wire));
export const protocolVersion = (m: Message): number | undefined =>
  parseDecimal(getString(m, WIRE_KEYS.protocolVersion.wire));
export const ackSeqno = (m: Message): number | undefined => parseHex(getString(m, WIRE_KEYS.ackSeqno.wire));
export const lastSeqno = (m: Message): number | undefined =>
  parseDecimal(getString(m, WIRE_KEYS.lastSeqno.wire));
export const info = (m: Message): string | undefined => getString(m, WIRE_KEYS.info.wire);

/** `firstseq`: decimal in NS_rexmit, hex in NS_nak_rexmit (and hex anywhere else). */
export function firstSeqno(m: Message): number | undefined {
  const text = getString(m, WIRE_KEYS.firstSeqno.wire);
  return messageType(m) === MESSAGE_TYPES.rexmitRequest ? parseDecimal(text) : parseHex(text);
}

/**
 * The readable interpretation of one field for display: its readable name (if the key is
 * known) and, for numeric keys, the number. `messageTypeText` decides `firstseq`.
 */
export function interpretField(
  field: Field,
  messageTypeText: string | undefined,
): { readonly readable: string | undefined; readonly number: number | undefined } {
  const key = wireKey(field.name);
  if (!key || field.kind !== 'string') return { readable: key?.readable, number: undefined };
  const text = latin1(field.value);
  switch (key.format) {
    case 'hex':
      return { readable: key.readable, number: parseHex(text) };
    case 'decimal':
      return { readable: key.readable, number: parseDecimal(text) };
    case 'rexmitSeqno':
      return {
        readable: key.readable,
        number: messageTypeText === MESSAGE_TYPES.rexmitRequest ? parseDecimal(text) : parseHex(text),
      };
    case 'text':
    case 'uuid':
    case 'bytes':
      return { readable: key.readable, number: undefined };
  }
}
