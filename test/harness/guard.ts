// Preconditions of the namespace harness: root, and the host tools it drives. A missing tool is
// reported by name together with the Debian package that provides it, so a test that needs the
// harness fails loudly with an actionable message instead of timing out somewhere later.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export class HarnessUnavailableError extends Error {
  override readonly name = 'HarnessUnavailableError';
}

/** Tools the harness may need, with the Debian package that provides them. */
export const TOOLS = {
  ip: { pkg: 'iproute2' },
  tc: { pkg: 'iproute2' },
  unshare: { pkg: 'util-linux' },
  nsenter: { pkg: 'util-linux' },
  setpriv: { pkg: 'util-linux' },
  mount: { pkg: 'mount' },
  perl: { pkg: 'perl-base' },
  sh: { pkg: 'dash' },
  socat: { pkg: 'socat' },
  nft: { pkg: 'nftables' },
  ping: { pkg: 'iputils-ping (or inetutils-ping)' },
  cl_status: { pkg: 'heartbeat' },
  heartbeat: { pkg: 'heartbeat', path: '/usr/libexec/heartbeat/heartbeat' },
} as const satisfies Record<string, { pkg: string; path?: string }>;

export type ToolName = keyof typeof TOOLS;

/** Tools every cluster needs (network namespaces, machines, teardown). */
export const BASE_TOOLS: readonly ToolName[] = ['ip', 'unshare', 'nsenter', 'setpriv', 'mount', 'perl', 'sh'];

const SEARCH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of a tool, or undefined. */
export function findTool(name: ToolName): string | undefined {
  const spec: { pkg: string; path?: string } = TOOLS[name];
  if (spec.path !== undefined) return executable(spec.path) ? spec.path : undefined;
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== ''), ...SEARCH_DIRS];
  for (const d of dirs) {
    const p = join(d, name);
    if (executable(p)) return p;
  }
  return undefined;
}

export function requireRoot(): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new HarnessUnavailableError(
      'tsbeat namespace harness: must run as root (network/PID/mount namespaces, veths, bridges). ' +
        'Run the integ/interop tests as root, e.g. in CI after scripts/install-deps.sh.',
    );
  }
}

/** Throws a HarnessUnavailableError naming every missing tool and its package. */
export function requireTools(names: readonly ToolName[]): void {
  const missing = [...new Set(names)].filter((n) => findTool(n) === undefined);
  if (missing.length === 0) return;
  const list = missing
    .map((n) => {
      const spec: { pkg: string; path?: string } = TOOLS[n];
      return `${spec.path ?? n} (Debian package ${spec.pkg})`;
    })
    .join(', ');
  throw new HarnessUnavailableError(
    `tsbeat namespace harness: missing required tool(s): ${list}. Install with scripts/install-deps.sh ` +
      '(apt-get install on Debian 12).',
  );
}

/** Root + the base tools + any extra ones. */
export function requireHarness(extra: readonly ToolName[] = []): void {
  requireRoot();
  requireTools([...BASE_TOOLS, ...extra]);
  if (!existsSync('/proc/self/ns/net')) {
    throw new HarnessUnavailableError(
      'tsbeat namespace harness: /proc/self/ns/net missing (no namespace support)',
    );
  }
}
