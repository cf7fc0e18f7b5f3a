// Part: the local API's wire format: one JSON request per line, one JSON response per line.
// Versioned so old CLIs talking to a newer daemon get a clear answer.

export const API_VERSION = 1;
/** A request line longer than this is refused without being parsed. */
export const MAX_REQUEST_BYTES = 64 * 1024;

export interface ApiRequest {
  readonly v: number;
  readonly cmd: string;
  readonly args?: Readonly<Record<string, unknown>>;
}

export type ApiResponse =
  | { readonly v: number; readonly ok: true; readonly result: unknown }
  | {
      readonly v: number;
      readonly ok: false;
      readonly error: { readonly code: string; readonly message: string };
    };

/** Parse one request line; a string is the reason it is not a request. */
export function parseRequest(line: string): ApiRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'request is not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'request is not a JSON object';
  const r = value as Record<string, unknown>;
  if (r['v'] !== API_VERSION)
    return `unsupported API version ${JSON.stringify(r['v'])} (this daemon speaks ${API_VERSION})`;
  if (typeof r['cmd'] !== 'string' || r['cmd'].length === 0 || r['cmd'].length > 64)
    return 'request has no valid "cmd"';
  if (
    r['args'] !== undefined &&
    (typeof r['args'] !== 'object' || r['args'] === null || Array.isArray(r['args']))
  ) {
    return '"args" must be an object';
  }
  return r['args'] === undefined
    ? { v: API_VERSION, cmd: r['cmd'] }
    : { v: API_VERSION, cmd: r['cmd'], args: r['args'] as Record<string, unknown> };
}
