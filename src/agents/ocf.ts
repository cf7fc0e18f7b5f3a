// Part: the OCF resource agent API as practised (resource-agents 4.12): exit codes, booleans,
// probes, and the words heartbeat's resource.d wrappers print for each exit code.

/**
 * OCF exit codes (`ocf-returncodes`). They are protocol: Pacemaker, ocf-tester and heartbeat's
 * wrappers read them, so the numbers never change.
 */
export const OCF = {
  SUCCESS: 0,
  ERR_GENERIC: 1,
  ERR_ARGS: 2,
  ERR_UNIMPLEMENTED: 3,
  ERR_PERM: 4,
  ERR_INSTALLED: 5,
  ERR_CONFIGURED: 6,
  NOT_RUNNING: 7,
} as const;

/** One of the OCF exit codes an agent of ours returns. */
export type OcfRc = (typeof OCF)[keyof typeof OCF];

/** The default prefix of the one stderr line that explains a failure (`OCF_EXIT_REASON_PREFIX`). */
export const EXIT_REASON_PREFIX = 'ocf-exit-reason:';

/** `ocf_is_true`: exactly these spellings are true, everything else (also "y", "Yes") is false. */
export function isTrue(value: string | undefined): boolean {
  switch (value) {
    case 'yes':
    case 'true':
    case '1':
    case 'YES':
    case 'TRUE':
    case 'True':
    case 'ja':
    case 'on':
    case 'ON':
      return true;
    default:
      return false;
  }
}

/** `ocf_is_decimal`: a non-empty string of the digits 0-9 only (no sign, no blanks). */
export function isDecimal(value: string | undefined): value is string {
  return value !== undefined && /^[0-9]+$/.test(value);
}

/**
 * `ocf_is_probe`: a monitor whose interval is 0. The shell library defaults
 * `OCF_RESKEY_CRM_meta_interval` to 0, so a monitor from a caller that sets no interval (heartbeat's
 * wrappers, a bare command line) is a probe too.
 */
export function isProbe(action: string, env: Readonly<Record<string, string | undefined>>): boolean {
  return action === 'monitor' && (env['OCF_RESKEY_CRM_meta_interval'] ?? '0') === '0';
}

/** `OCF_CHECK_LEVEL` (or `OCF_RESKEY_OCF_CHECK_LEVEL`), 0 when unset or not a number. */
export function checkLevel(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env['OCF_CHECK_LEVEL'] ?? env['OCF_RESKEY_OCF_CHECK_LEVEL'] ?? '0';
  return isDecimal(raw) ? Number(raw) : 0;
}

/**
 * What heartbeat 3.0.6's `hto-mapfuncs` (`ra_execocf`) prints on stdout for an agent's exit code.
 * The double space is heartbeat's: the message interpolates an unset `$rsc_type`. heartbeat's
 * ResourceManager classifies `status` by these words ("Running OK" → running, "Resource is
 * stopped" → not running), so they are kept byte for byte.
 */
export function heartbeatRcLine(rc: number, action: string): string {
  switch (rc) {
    case OCF.SUCCESS:
      return action === 'monitor' || action === 'status' ? 'INFO:  Running OK' : 'INFO:  Success';
    case OCF.ERR_GENERIC:
      return 'ERROR:  Generic error';
    case OCF.ERR_ARGS:
      return 'ERROR:  Illegal argument';
    case OCF.ERR_UNIMPLEMENTED:
      return 'ERROR:  Function unimplemented';
    case OCF.ERR_PERM:
      return 'ERROR:  User had insufficient privilege';
    case OCF.ERR_INSTALLED:
      return 'ERROR:  Program is not installed';
    case OCF.ERR_CONFIGURED:
      return 'ERROR:  Program is not configured';
    case OCF.NOT_RUNNING:
      return 'INFO:  Resource is stopped';
    default:
      return `ERROR:  Unknown error: ${rc}`;
  }
}

/**
 * heartbeat's ResourceManager rule for "do we own this resource?" (`we_own_resource`): only the
 * stdout of `status` counts, never the exit code. Exported so tests can prove our status texts
 * classify as intended.
 */
export function heartbeatSaysRunning(stdout: string): boolean {
  // A shell glob: "\ *" is a blank and then anything, so "cannot ... running" counts as "not running".
  if (/[Nn][Oo][Tt] .*[Rr]unning/s.test(stdout)) return false;
  return /[Rr]unning/.test(stdout) || stdout.includes('OK');
}
