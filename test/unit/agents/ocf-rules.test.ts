// The OCF and heartbeat conventions the agents rely on, checked against the recorded behaviour
// of the real tools: ocf_is_true's exact spellings, ocf_is_decimal, what counts as a probe, the
// words heartbeat 3.0.6's wrappers print per exit code (double space included), and that
// heartbeat's ResourceManager rule classifies those words as the resource manager expects — the
// table is the one recorded from the real ResourceManager (spec transcript
// heartbeat-status-classification.txt). Also the pure address helpers and the log line format.
import { describe, expect, it } from 'vitest';
import {
  canonicalIpv6,
  dottedQuadToPrefix,
  isIpv4,
  isIpv6,
  isValidPrefix,
  prefixToDotted,
} from '../../../src/agents/inet.js';
import { hadate, makeLogSink } from '../../../src/agents/log.js';
import {
  checkLevel,
  heartbeatRcLine,
  heartbeatSaysRunning,
  isDecimal,
  isProbe,
  isTrue,
} from '../../../src/agents/ocf.js';

describe('ocf-shellfuncs helpers', () => {
  it('ocf_is_true accepts exactly yes true 1 YES TRUE True ja on ON', () => {
    for (const v of ['yes', 'true', '1', 'YES', 'TRUE', 'True', 'ja', 'on', 'ON'])
      expect(isTrue(v)).toBe(true);
    for (const v of ['y', 'Yes', 'tRue', '0', 'no', '', ' true', undefined]) expect(isTrue(v)).toBe(false);
  });

  it('ocf_is_decimal: digits only, not empty', () => {
    expect(isDecimal('200')).toBe(true);
    expect(isDecimal('0')).toBe(true);
    for (const v of ['', '-1', '1.5', ' 1', '1e3', undefined]) expect(isDecimal(v)).toBe(false);
  });

  it('a monitor is a probe when the interval is 0 or unset, nothing else is', () => {
    expect(isProbe('monitor', {})).toBe(true);
    expect(isProbe('monitor', { OCF_RESKEY_CRM_meta_interval: '0' })).toBe(true);
    expect(isProbe('monitor', { OCF_RESKEY_CRM_meta_interval: '10000' })).toBe(false);
    expect(isProbe('start', {})).toBe(false);
  });

  it('OCF_CHECK_LEVEL (or OCF_RESKEY_OCF_CHECK_LEVEL), default 0', () => {
    expect(checkLevel({})).toBe(0);
    expect(checkLevel({ OCF_CHECK_LEVEL: '10' })).toBe(10);
    expect(checkLevel({ OCF_RESKEY_OCF_CHECK_LEVEL: '20' })).toBe(20);
    expect(checkLevel({ OCF_CHECK_LEVEL: 'x' })).toBe(0);
  });
});

describe("heartbeat's wrapper lines and the ResourceManager's status rule", () => {
  it('prints hto-mapfuncs words per exit code', () => {
    expect(heartbeatRcLine(0, 'status')).toBe('INFO:  Running OK');
    expect(heartbeatRcLine(0, 'monitor')).toBe('INFO:  Running OK');
    expect(heartbeatRcLine(0, 'start')).toBe('INFO:  Success');
    expect(heartbeatRcLine(1, 'start')).toBe('ERROR:  Generic error');
    expect(heartbeatRcLine(2, 'start')).toBe('ERROR:  Illegal argument');
    expect(heartbeatRcLine(3, 'start')).toBe('ERROR:  Function unimplemented');
    expect(heartbeatRcLine(4, 'start')).toBe('ERROR:  User had insufficient privilege');
    expect(heartbeatRcLine(5, 'start')).toBe('ERROR:  Program is not installed');
    expect(heartbeatRcLine(6, 'start')).toBe('ERROR:  Program is not configured');
    expect(heartbeatRcLine(7, 'status')).toBe('INFO:  Resource is stopped');
    expect(heartbeatRcLine(42, 'start')).toBe('ERROR:  Unknown error: 42');
  });

  // Recorded from heartbeat 3.0.6's ResourceManager (we_own_resource): 0 = owned.
  const recorded: [string, boolean][] = [
    ['running', true],
    ['INFO:  Running OK', true],
    ['INFO:  Resource is stopped', false],
    ['stopped', false],
    ['running (Primary)', true],
    ['stopped (Secondary)', false],
    ['cannot determine status, may be running (Unknown)', false],
    ["Vserver 'v1' is running at context '1001'", true],
    ["Vserver 'v1' is stopped", false],
    ['master running', true],
    ['master stopped', false],
    ['ldirectord is stopped for /etc/ha.d/ldirectord.cf', false],
    ['', false],
    ['OK', true],
    ['ok', false],
    ['not running', false],
  ];
  it.each(recorded)('classifies %j like heartbeat (running=%s)', (text, running) => {
    expect(heartbeatSaysRunning(text)).toBe(running);
  });

  it('every status line our wrappers print classifies as intended', () => {
    expect(heartbeatSaysRunning(`${heartbeatRcLine(0, 'status')}\n`)).toBe(true);
    expect(heartbeatSaysRunning(`${heartbeatRcLine(7, 'status')}\n`)).toBe(false);
    for (const rc of [1, 2, 3, 4, 5, 6])
      expect(heartbeatSaysRunning(`${heartbeatRcLine(rc, 'status')}\n`)).toBe(false);
  });
});

describe('address helpers', () => {
  it('IPv4 syntax as findif.sh checks it', () => {
    for (const ok of ['10.0.0.1', '1.2.3.4', '255.255.255.255', '192.168.0.0']) expect(isIpv4(ok)).toBe(true);
    for (const bad of [
      '0.1.2.3',
      '10.0.0',
      '10.0.0.256',
      '10.0.0.1 ',
      '+10.0.0.1',
      '10.0.0.01x',
      'a.b.c.d',
    ]) {
      expect(isIpv4(bad)).toBe(false);
    }
  });

  it('IPv6 text, canonical as ip prints it', () => {
    expect(isIpv6('2001:db8::1')).toBe(true);
    expect(isIpv6('2001:db8::g')).toBe(false);
    expect(canonicalIpv6('2001:0DB8:0:0:0:0:0:0001')).toBe('2001:db8::1');
    expect(canonicalIpv6('2001:db8:DC28:0:0:FC57:D4C8:1FFF')).toBe('2001:db8:dc28::fc57:d4c8:1fff');
    expect(canonicalIpv6('not an address')).toBeUndefined();
  });

  it('dotted-quad netmasks become prefixes; other text is left for the checks', () => {
    expect(dottedQuadToPrefix('255.255.255.0')).toEqual({ prefix: '24', converted: true, bogus: false });
    expect(dottedQuadToPrefix('255.255.255.255')).toEqual({ prefix: '32', converted: true, bogus: false });
    expect(dottedQuadToPrefix('255.0.255.0')).toEqual({
      prefix: '255.0.255.0',
      converted: false,
      bogus: true,
    });
    expect(dottedQuadToPrefix('24')).toEqual({ prefix: '24', converted: false, bogus: false });
    expect(prefixToDotted(20)).toBe('255.255.240.0');
    expect(isValidPrefix('24', 32)).toBe(true);
    for (const bad of ['0', '33', '', '1234', '2x']) expect(isValidPrefix(bad, 32)).toBe(false);
    expect(isValidPrefix('128', 128)).toBe(true);
  });
});

describe('log lines', () => {
  it('hadate is "%b %d %T " in local time', () => {
    expect(hadate(new Date(2025, 10, 2, 3, 4, 5))).toBe('Nov 02 03:04:05 ');
  });

  it('go to stderr as "<date>LEVEL: text" without HA_LOGFILE, to the file with it', () => {
    const now = (): Date => new Date(2025, 10, 22, 20, 30, 46);
    const err: string[] = [];
    const files: [string, string][] = [];
    const targets = {
      stderr: (t: string) => err.push(t),
      append: (p: string, t: string) => files.push([p, t]),
    };
    makeLogSink({}, 'IPaddr2(v)[1]', targets, now)('info', 'Bringing device eth0 up');
    expect(err).toEqual(['Nov 22 20:30:46 INFO: Bringing device eth0 up\n']);
    makeLogSink(
      { HA_LOGFILE: '/x/ha-log', HA_DEBUGLOG: '/x/ha-debug' },
      'IPaddr2(v)[1]',
      targets,
      now,
    )('warn', 'w');
    expect(err).toHaveLength(1);
    expect(files).toEqual([
      ['/x/ha-log', 'Nov 22 20:30:46  IPaddr2(v)[1]:    WARNING: w\n'],
      ['/x/ha-debug', 'IPaddr2(v)[1]:\tNov 22 20:30:46 WARNING: w\n'],
    ]);
    makeLogSink({}, 't', targets, now)('debug', 'quiet unless HA_debug');
    expect(err).toHaveLength(1);
    makeLogSink({ HA_debug: '1' }, 't', targets, now)('debug', 'shown');
    expect(err[1]).toBe('Nov 22 20:30:46 DEBUG: shown\n');
  });
});
