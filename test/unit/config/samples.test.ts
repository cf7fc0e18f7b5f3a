/**
 * The sample files heartbeat 3.0.6 ships (Debian package `heartbeat`, installed by
 * scripts/install-deps.sh) and tsbeat's own examples in etc/ha.d are read with the meaning
 * heartbeat gives them. heartbeat's samples are read from /usr/share/doc/heartbeat at test
 * time, not copied into this repository.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseAuthkeys } from '../../../src/config/authkeys.js';
import { KNOWN_DIRECTIVES, parseHaCf } from '../../../src/config/hacf.js';
import { parseHaresources } from '../../../src/config/haresources.js';
import { loadConfig } from '../../../src/config/load.js';
import { formatDiagnostic } from '../../../src/lib/diagnostic.js';

const DOC = '/usr/share/doc/heartbeat';
function sample(name: string): string {
  const gz = join(DOC, `${name}.gz`);
  const plain = join(DOC, name);
  if (existsSync(gz)) return gunzipSync(readFileSync(gz)).toString('latin1');
  if (existsSync(plain)) return readFileSync(plain, 'latin1');
  throw new Error(
    `${plain} is missing: install the Debian heartbeat package (sudo bash scripts/install-deps.sh)`,
  );
}

describe("heartbeat's sample ha.cf", () => {
  it('as shipped: only the omissions heartbeat itself refuses (no media, no nodes)', () => {
    const r = parseHaCf(sample('ha.cf'), { file: 'ha.cf', localNode: 'ken3' });
    expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)).toEqual([
      'no heartbeat media defined',
      'no nodes defined',
    ]);
    expect(r.haCf).toMatchObject({ logfacility: 'local0', autoFailback: 'on' });
  });

  it('with its example directives enabled: every one is understood', () => {
    const enabled = sample('ha.cf')
      .split('\n')
      .map((line) => {
        const m = /^#([a-z_0-9]+)[ \t]/.exec(line);
        if (!m || !KNOWN_DIRECTIVES.includes(m[1]!)) return line;
        // Keep the Linux alternative of OS-specific lines; skip placeholders.
        if (/Solaris|FreeBSD|classic\/netstring|^#apiauth ipfail uid=/.test(line)) return line;
        return line.slice(1);
      })
      .join('\n');
    const r = parseHaCf(enabled, { file: 'ha.cf', localNode: 'ken3' });
    expect(r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)).toEqual([]);
    expect(r.haCf).toMatchObject({
      keepaliveMs: 2000,
      deadtimeMs: 30000,
      warntimeMs: 10000,
      initdeadMs: 120000,
      deadpingMs: 30000,
      udpPort: 694,
      baud: 19200,
      nodes: ['ken3', 'kathy'],
      hbgenmethod: 'time',
      realtime: false,
      debugLevel: 1,
      compression: 'bz2',
      logfile: '/var/log/ha-log',
      debugfile: '/var/log/ha-debug',
    });
    expect(r.haCf.media).toEqual([
      { kind: 'serial', device: '/dev/ttyS0', baud: 19200 },
      { kind: 'bcast', dev: 'eth0', port: 694 },
      { kind: 'bcast', dev: 'eth1', port: 694 },
      { kind: 'bcast', dev: 'eth2', port: 694 },
      { kind: 'mcast', dev: 'eth0', group: '225.0.0.1', port: 694, ttl: 1, loop: false },
      { kind: 'ucast', dev: 'eth0', peer: '192.168.1.2', port: 694 },
    ]);
    // On ken3 the last applicable STONITH line is the rps10 one for ken3.
    expect(r.haCf.stonith.map((s) => s.type)).toEqual(['baytech', 'baytech', 'rps10']);
    expect(r.haCf.pingNodes).toHaveLength(2);
  });
});

describe("heartbeat's sample haresources", () => {
  const examples = sample('haresources')
    .split('\n')
    .filter((l) => /^#(just\.linux-ha\.org|node1)\s/.test(l))
    .map((l) => l.slice(1));

  it('has the examples', () => expect(examples).toHaveLength(5));

  it.each(examples.map((e) => [e]))('%s', (line) => {
    const r = parseHaresources(`${line}\n`, 'haresources');
    expect(r.diagnostics).toEqual([]);
    const g = r.groups[0]!;
    expect(g.key).toBe(line.split(/\s+/)[1]);
    // A bare address is the IPaddr shorthand, also after the first resource.
    for (const res of g.resources) {
      if (/^\d/.test(res.spec)) expect(res).toEqual({ spec: res.spec, script: 'IPaddr', args: [res.spec] });
    }
  });
});

describe("heartbeat's sample authkeys", () => {
  it('with its example keys enabled', () => {
    const text = sample('authkeys').replace(/^#(auth 1|1 crc|2 sha1 HI!|3 md5 Hello!)$/gm, '$1');
    const r = parseAuthkeys(text, 'authkeys');
    expect(r.keyring?.active).toMatchObject({ index: 1, method: 'crc' });
    expect(Buffer.from(r.keyring!.keys.get(2)!.key).toString()).toBe('HI!');
    expect(Buffer.from(r.keyring!.keys.get(3)!.key).toString()).toBe('Hello!');
  });
});

describe("tsbeat's examples in etc/ha.d", () => {
  it.each([
    ['lvs-dr', 'node1'],
    ['drbd-fs', 'alpha'],
  ])('%s is valid for node %s', async (example, node) => {
    const { chmodSync, cpSync, mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    // git cannot store mode 600: copy and tighten, as the README tells operators.
    const dir = mkdtempSync(join(tmpdir(), 'tsbeat-example-'));
    try {
      cpSync(new URL(`../../../etc/ha.d/${example}`, import.meta.url), dir, { recursive: true });
      chmodSync(join(dir, 'authkeys'), 0o600);
      const r = await loadConfig({ dir, localNode: node, host: null });
      expect(r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)).toEqual([]);
      expect(r.config?.groups.length).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
