/**
 * authkeys ownership (issue 11 item 12): heartbeat 3.0.6 checks only that the file is not
 * readable by group or others and never looks at its owner. tsbeat accepts what heartbeat
 * accepts, but warns when the file belongs to a user other than root or the one running
 * tsbeat (that user can change and read the keys), naming the owner and `chown root:root`,
 * and when group or others may write it (mode 620 is accepted by heartbeat). The file is
 * really owned by another uid: chown when running as root, else the check is told it runs
 * as another user.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { formatDiagnostic } from '../../../src/lib/diagnostic.js';
import { labHost } from '../../support/fake-host.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-authowner-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

function dirWith(mode: number): { dir: string; file: string } {
  const dir = join(tmp, `c${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'ha.cf'), 'bcast eth0\nnode ra1 ra2\nlogfile /var/log/ha-log\nauto_failback on\n');
  writeFileSync(join(dir, 'haresources'), '');
  const file = join(dir, 'authkeys');
  writeFileSync(file, 'auth 1\n1 sha1 secret\n');
  chmodSync(file, mode);
  return { dir, file };
}

const root = process.getuid?.() === 0;

describe('authkeys owner and write permission', () => {
  it('another owner: a warning, not an error (heartbeat starts with it)', async () => {
    const { dir, file } = dirWith(0o600);
    if (root) chownSync(file, 65534, 65534);
    const owner = statSync(file).uid;
    const host = { ...labHost(dir), userName: (uid: number) => (uid === 65534 ? 'nobody' : undefined) };
    const r = await loadConfig({ dir, host, localNode: 'ra1', runningUid: root ? 0 : owner + 1 });
    const shown = r.diagnostics.map(formatDiagnostic);
    const who = owner === 65534 ? 'nobody (uid 65534)' : `uid ${owner}`;
    expect(shown).toContain(
      `${file}: warning: owned by ${who}, not by root: that user can change the keys and read them (heartbeat does not check the owner) (chown root:root ${file})`,
    );
    expect(r.config).toBeDefined();
  });

  it('owned by root, or by the user running tsbeat: no warning', async () => {
    const { dir, file } = dirWith(0o600);
    const r = await loadConfig({ dir, host: labHost(dir), localNode: 'ra1', runningUid: statSync(file).uid });
    expect(r.diagnostics.map(formatDiagnostic).filter((l) => l.startsWith(file))).toEqual([]);
  });

  it('group-writable (620, accepted by heartbeat): a warning with chmod 600', async () => {
    const { dir, file } = dirWith(0o620);
    const r = await loadConfig({ dir, host: labHost(dir), localNode: 'ra1', runningUid: statSync(file).uid });
    expect(r.diagnostics.map(formatDiagnostic)).toContain(
      `${file}: warning: permissions 620 let other users change the keys (heartbeat accepts this) (chmod 600 ${file})`,
    );
    expect(r.config).toBeDefined();
  });
});
