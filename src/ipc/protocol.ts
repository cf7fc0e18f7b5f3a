// Part: the local API's wire format: one JSON request per line, one JSON response per line, in
// order. Versioned, so a CLI and a daemon of different releases either agree or say why not.

/** The protocol version this build speaks. */
export const API_VERSION = 1;
/** Every version this daemon answers (a request with another `v` gets `unsupported-version`). */
export const SUPPORTED_VERSIONS: readonly number[] = [1];
/** A request line (without its newline) longer than this is refused unread and the connection closed. */
export const MAX_REQUEST_BYTES = 16 * 1024;
/** Longest string argument (node, link, parameter and client names); heartbeat's own limit is 256. */
export const MAX_ARG_STRING = 256;
/** Longest request id a client may send (echoed back in the response). */
const MAX_ID_STRING = 64;

/** Why a request failed; stable strings that clients may test. */
export type ApiErrorCode =
  | 'bad-json'
  | 'bad-request'
  | 'too-large'
  | 'unsupported-version'
  | 'unknown-command'
  | 'bad-args'
  | 'permission-denied'
  | 'busy'
  | 'timeout'
  | 'no-such-node'
  | 'no-such-link'
  | 'no-response'
  | 'not-managed'
  | 'unsupported'
  | 'internal';

export type RequestId = number | string;

/** A request as the server sees it after parsing (the command name is not yet checked). */
export interface ApiRequest {
  readonly v: number;
  readonly id?: RequestId;
  readonly cmd: string;
  readonly args: Readonly<Record<string, unknown>>;
}

export interface ApiErrorBody {
  readonly code: ApiErrorCode;
  readonly message: string;
  /** With `unsupported-version`: the versions the daemon speaks. */
  readonly supported?: readonly number[];
}

export type ApiResponse =
  | { readonly v: number; readonly id?: RequestId; readonly ok: true; readonly result: unknown }
  | { readonly v: number; readonly id?: RequestId; readonly ok: false; readonly error: ApiErrorBody };

/** A request line that could not be accepted: the error to answer, and the id if one was readable. */
export interface RejectedRequest {
  readonly rejected: ApiErrorBody;
  readonly id?: RequestId;
}

function validId(id: unknown): id is RequestId {
  return (
    (typeof id === 'number' && Number.isSafeInteger(id)) ||
    (typeof id === 'string' && id.length <= MAX_ID_STRING)
  );
}

/**
 * Parse one request line. Checks the envelope only (JSON object, version, id, command name,
 * args object); each command's arguments are checked against its schema in schema.ts.
 */
export function parseRequest(line: string): ApiRequest | RejectedRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { rejected: { code: 'bad-json', message: 'request is not valid JSON' } };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { rejected: { code: 'bad-request', message: 'request is not a JSON object' } };
  const r = value as Record<string, unknown>;
  const id = validId(r['id']) ? { id: r['id'] } : {};
  if (r['id'] !== undefined && !validId(r['id']))
    return { rejected: { code: 'bad-request', message: '"id" must be an integer or a short string' } };
  if (typeof r['v'] !== 'number' || !SUPPORTED_VERSIONS.includes(r['v'])) {
    return {
      ...id,
      rejected: {
        code: 'unsupported-version',
        message: `unsupported API version ${JSON.stringify(r['v']) ?? 'undefined'} (this daemon speaks ${SUPPORTED_VERSIONS.join(', ')})`,
        supported: SUPPORTED_VERSIONS,
      },
    };
  }
  if (typeof r['cmd'] !== 'string' || !/^[a-z][a-z-]{0,31}$/.test(r['cmd']))
    return { ...id, rejected: { code: 'bad-request', message: 'request has no valid "cmd"' } };
  const args = r['args'];
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args)))
    return { ...id, rejected: { code: 'bad-request', message: '"args" must be a JSON object' } };
  return { v: r['v'], ...id, cmd: r['cmd'], args: (args ?? {}) as Record<string, unknown> };
}

export function isRejected(r: ApiRequest | RejectedRequest): r is RejectedRequest {
  return 'rejected' in r;
}

/** One response line, newline included. */
export function encodeResponse(r: ApiResponse): string {
  return `${JSON.stringify(r)}\n`;
}
