// A clean Debian 12 root assembled from this host's installed packages, to install a .deb into
// with `dpkg --root` and run it chrooted, without debootstrap or network.
//
// What it holds, exactly: the files (dpkg -L) of every installed package of Priority required
// or Essential, of the packages asked for, and of everything they depend on (Depends and
// Pre-Depends, first installed alternative, Provides resolved), copied from the host; their
// dpkg status paragraphs and info files, so dpkg checks the new package's dependencies against
// exactly that set; /etc/passwd and /etc/group from base-passwd's masters (what a fresh
// system starts with); the host's /etc/alternatives links; usr-merged /bin, /sbin, /lib,
// /lib64. Nothing else: no Node, no npm, no node_modules, no /usr/local.

import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Installed {
  readonly name: string;
  readonly required: boolean;
  readonly depends: string;
  readonly provides: string;
}

function installedPackages(): Map<string, Installed> {
  const out = execFileSync(
    'dpkg-query',
    [
      '-W',
      '-f',
      // dpkg-query's own ${Field} syntax, not a template.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query format
      '${Package}\t${db:Status-Abbrev}\t${Priority}\t${Essential}\t${Depends}, ${Pre-Depends}\t${Provides}\n',
    ],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const m = new Map<string, Installed>();
  for (const line of out.split('\n')) {
    const [name, status, prio, essential, depends, provides] = line.split('\t');
    if (!name || !status?.startsWith('ii')) continue;
    m.set(name, {
      name,
      required: prio === 'required' || essential === 'yes',
      depends: depends ?? '',
      provides: provides ?? '',
    });
  }
  return m;
}

/** Package names in a Depends-style field: `a (>= 1) | b:any, c` -> [[a, b], [c]]. */
export function dependencyGroups(field: string): string[][] {
  return field
    .split(',')
    .map((g) =>
      g
        .split('|')
        .map((alt) =>
          alt
            .trim()
            .replace(/\s*\(.*\)$/, '')
            .replace(/:\S+$/, ''),
        )
        .filter((n) => n !== ''),
    )
    .filter((g) => g.length > 0);
}

/** The packages of the root: required ones, `wanted`, and their dependency closure. */
export function rootPackages(wanted: readonly string[]): string[] {
  const installed = installedPackages();
  const providers = new Map<string, string>();
  for (const p of installed.values())
    for (const [virt] of dependencyGroups(p.provides))
      if (virt && !providers.has(virt)) providers.set(virt, p.name);
  const resolve = (n: string): string | undefined => (installed.has(n) ? n : providers.get(n));
  const chosen = new Set<string>();
  const queue = [...[...installed.values()].filter((p) => p.required).map((p) => p.name)];
  for (const w of wanted) {
    const r = resolve(w);
    if (!r)
      throw new Error(
        `the clean root needs ${w}, which is not installed on this host (scripts/install-deps.sh)`,
      );
    queue.push(r);
  }
  while (queue.length > 0) {
    const n = queue.pop()!;
    if (chosen.has(n)) continue;
    chosen.add(n);
    for (const group of dependencyGroups(installed.get(n)?.depends ?? '')) {
      const pick = group.map(resolve).find((x) => x !== undefined);
      if (pick === undefined)
        throw new Error(`${n} depends on ${group.join(' | ')}, not installed on this host`);
      queue.push(pick);
    }
  }
  return [...chosen].sort();
}

/** Build the root at `root` (an empty directory) holding `packages`. */
export function buildRoot(root: string, packages: readonly string[]): void {
  for (const d of [
    'usr/bin',
    'usr/sbin',
    'usr/lib',
    'usr/lib64',
    'etc',
    'var/lib/dpkg/info',
    'tmp',
    'run',
    'proc',
    'sys',
    'dev',
  ])
    mkdirSync(join(root, d), { recursive: true });
  for (const d of ['bin', 'sbin', 'lib', 'lib64']) symlinkSync(`usr/${d}`, join(root, d));

  const lists = execFileSync('dpkg-query', ['-L', ...packages], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const files = [...new Set(lists.split('\n').filter((l) => l.startsWith('/') && l !== '/.'))];
  // Directory entries would drag their whole host contents in: list them without recursion.
  const listFile = join(root, 'tmp', 'files.list');
  writeFileSync(listFile, files.map((f) => f.slice(1)).join('\n'));
  const tar = spawnSync(
    'sh',
    [
      '-c',
      'tar -C / --no-recursion --ignore-failed-read -cf - -T "$1" 2>/dev/null | tar -C "$2" --keep-directory-symlink -xpf -',
      'sh',
      listFile,
      root,
    ],
    { encoding: 'utf8', maxBuffer: 16 << 20 },
  );
  if (tar.status !== 0) throw new Error(`copying the packages' files failed: ${tar.stderr}`);

  const status = execFileSync('dpkg-query', ['-s', ...packages], { encoding: 'utf8', maxBuffer: 64 << 20 });
  writeFileSync(join(root, 'var/lib/dpkg/status'), status.endsWith('\n\n') ? status : `${status}\n`);
  for (const f of ['available', 'diversions', 'statoverride'])
    writeFileSync(join(root, 'var/lib/dpkg', f), '');
  for (const d of ['updates', 'triggers', 'alternatives'])
    mkdirSync(join(root, 'var/lib/dpkg', d), { recursive: true });
  const wantedInfo = new Set(packages);
  for (const f of readdirSync('/var/lib/dpkg/info')) {
    const pkg = f.replace(/\.[^.]+$/, '').replace(/:.*$/, '');
    if (wantedInfo.has(pkg)) copyFileSync(join('/var/lib/dpkg/info', f), join(root, 'var/lib/dpkg/info', f));
  }
  copyFileSync('/usr/share/base-passwd/passwd.master', join(root, 'etc/passwd'));
  copyFileSync('/usr/share/base-passwd/group.master', join(root, 'etc/group'));
  if (existsSync('/etc/alternatives'))
    execFileSync('cp', ['-a', '/etc/alternatives', join(root, 'etc/')], { stdio: 'ignore' });
}

/**
 * Run `script` (sh) chrooted in `root`, in new mount, network and PID namespaces: its own
 * /proc, /sys, /dev (the host's, bound), and empty /run and /tmp, so nothing it mounts or starts
 * is seen by the host.
 */
export function inRoot(
  root: string,
  script: string,
  timeoutMs = 120_000,
): { status: number | null; stdout: string; stderr: string } {
  const setup = [
    'set -e',
    `R="$1"`,
    // A mount point as /, so that ip netns exec can make it a slave inside the root.
    'mount --bind "$R" "$R"',
    'mount -t proc proc "$R/proc"',
    'mount -t sysfs sysfs "$R/sys"',
    'mount --rbind /dev "$R/dev"',
    'mount -t tmpfs tmpfs "$R/run"',
    'mount -t tmpfs tmpfs "$R/tmp"',
    'ip link set lo up',
    'exec chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 /bin/sh -c "$2"',
  ].join('\n');
  const r = spawnSync(
    'unshare',
    [
      '--mount',
      '--net',
      '--pid',
      '--fork',
      '--kill-child',
      '--propagation',
      'private',
      'sh',
      '-c',
      setup,
      'sh',
      root,
      script,
    ],
    { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
