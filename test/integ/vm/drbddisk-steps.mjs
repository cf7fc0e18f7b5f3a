// The drbddisk/Filesystem steps of drbddisk-real.sh, in one node process (inside the VM): each
// step is one heartbeat-style or OCF action through dist/agents/builtin.js, the in-process entry
// the daemon uses, which runs the same dispatcher as the executables. Prints "RESULT name value".
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const repo = process.argv[2];
const { runHeartbeatStyle, runOcfInProcess, shutdownBuiltinAgents } = await import(
  `${repo}/dist/agents/builtin.js`
);

const base = { ...process.env, HA_RSCTMP: '/run/resource-agents', OCF_ROOT: '/usr/lib/ocf' };
const ctx = (extra = {}) => ({
  env: { ...base, ...extra },
  signal: new AbortController().signal,
  log: () => {},
});
const result = (name, value) => process.stdout.write(`RESULT ${name} ${value}\n`);
const seconds = (t0) => ((Date.now() - t0) / 1000).toFixed(1);
const sh = (cmd) => execFileSync('bash', ['-c', cmd], { encoding: 'utf8' }).trim();
const hb = (args, action, extra) => runHeartbeatStyle('drbddisk', args, action, ctx(extra));
const ocf = (type, action, params, extra = {}) => {
  const env = { ...extra };
  for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
  return runOcfInProcess(type, action, ctx(env));
};
const B = { OCF_RESKEY_drbdadm: '/tmp/drbdadm-b' };
const d1 = { drbd_resource: 'r1', drbdadm: '/tmp/drbdadm-b' };
const inst = (name) => ({ OCF_RESOURCE_INSTANCE: name });

let t0 = Date.now();
let r = await hb(['r0'], 'start');
result('hb_start', `${r.rc} ${seconds(t0)}`);
result('role_after_start', sh('/tmp/drbdadm-a role r0'));
r = await hb(['r0'], 'status');
result('hb_status_primary', `${r.rc} ${r.stdout.trim()}`);
r = await hb([], 'status');
result('hb_status_all', `${r.rc} ${r.stdout.trim()}`);

// The peer cannot be promoted while r0 is Primary: 6 attempts 1 s apart, then exit 1.
writeFileSync('/tmp/calls-b.log', '');
t0 = Date.now();
r = await hb(['r1'], 'start', B);
result('hb_refused', `${r.rc} ${seconds(t0)}`);
const refusals = readFileSync('/tmp/calls-b.log', 'utf8')
  .split('\n')
  .filter((l) => l.includes(' primary r1 -> '));
result('hb_refused_attempts', refusals.length);
result('hb_refused_drbdadm_rc', `${[...new Set(refusals.map((l) => l.split(' -> ')[1]))].join(' ')} `);
t0 = Date.now();
r = await ocf('drbddisk', 'start', d1, inst('d1'));
result('ocf_refused', `${r.rc} ${seconds(t0)}`);
result('ocf_refused_reason', /^ocf-exit-reason:drbdadm primary r1 failed 6 times/m.test(r.stderr) ? 1 : 0);

// A Filesystem on the DRBD device, every monitor depth.
mkdirSync('/srv/r0', { recursive: true });
const fs0 = { device: '/dev/drbd0', directory: '/srv/r0', fstype: 'ext4' };
result('fs_start', (await ocf('Filesystem', 'start', fs0, inst('fs0'))).rc);
for (const level of ['0', '10', '20'])
  result(
    `fs_monitor_${level}`,
    (await ocf('Filesystem', 'monitor', fs0, { ...inst('fs0'), OCF_CHECK_LEVEL: level })).rc,
  );
writeFileSync('/srv/r0/proof.txt', 'written on r0\n');
// Demoting r0 while it is mounted: DRBD refuses (device held open), 3 attempts, exit 1.
writeFileSync('/tmp/calls-a.log', '');
t0 = Date.now();
r = await hb(['r0'], 'stop');
result('hb_stop_busy', `${r.rc} ${seconds(t0)}`);
result(
  'hb_stop_busy_attempts',
  readFileSync('/tmp/calls-a.log', 'utf8')
    .split('\n')
    .filter((l) => l.includes(' secondary r0 -> ')).length,
);
r = await hb(['r0'], 'status');
result('hb_status_still_primary', `${r.rc} ${r.stdout.trim()}`);
result('fs_stop', (await ocf('Filesystem', 'stop', fs0, inst('fs0'))).rc);
result('fs_monitor_after_stop', (await ocf('Filesystem', 'monitor', fs0, inst('fs0'))).rc);
result('hb_stop', (await hb(['r0'], 'stop')).rc);
result('hb_stop_again', (await hb(['r0'], 'stop')).rc);
result('role_after_stop', sh('/tmp/drbdadm-a role r0'));

// Failover: the peer (OCF form) is promoted now and sees the data.
result('ocf_monitor_secondary', (await ocf('drbddisk', 'monitor', d1, inst('d1'))).rc);
result('ocf_start', (await ocf('drbddisk', 'start', d1, inst('d1'))).rc);
result('ocf_monitor_primary', (await ocf('drbddisk', 'monitor', d1, inst('d1'))).rc);
mkdirSync('/srv/r1', { recursive: true });
const fs1 = { device: '/dev/drbd1', directory: '/srv/r1', fstype: 'ext4' };
result('fs_peer_start', (await ocf('Filesystem', 'start', fs1, inst('fs1'))).rc);
result('replicated', sh('cat /srv/r1/proof.txt 2>&1'));
result('fs_peer_stop', (await ocf('Filesystem', 'stop', fs1, inst('fs1'))).rc);
result('ocf_stop', (await ocf('drbddisk', 'stop', d1, inst('d1'))).rc);
result('ocf_monitor_after_stop', (await ocf('drbddisk', 'monitor', d1, inst('d1'))).rc);

// A resource that is down: Unconfigured, which is "stopped"; stopping it succeeds.
sh('/tmp/drbdadm-b down r1');
r = await hb(['r1'], 'status', B);
result('hb_status_down', `${r.rc} ${r.stdout.trim()}`);
result('ocf_monitor_down', (await ocf('drbddisk', 'monitor', d1, inst('d1'))).rc);
result('ocf_stop_down', (await ocf('drbddisk', 'stop', d1, inst('d1'))).rc);
shutdownBuiltinAgents();
