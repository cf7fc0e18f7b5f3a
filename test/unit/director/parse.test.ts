/**
 * The ldirectord.cf parser: the tutorial's file is accepted unchanged with ldirectord's defaults
 * settled (ld_setup's timeout fallbacks, service from port, quiescent's code default "no"), every
 * mistake comes back as file:line with a hint, and the tsbeat extensions work both as plain
 * directives and as `#tsbeat:` comments the stock ldirectord ignores.
 */
import { describe, expect, it } from 'vitest';
import { parseDirectorConfig } from '../../../src/director/parse.js';
import { formatDiagnostic } from '../../../src/lib/diagnostic.js';

const TUTORIAL = `# Global Directives
checktimeout=3
checkinterval=1
autoreload=yes
logfile="/var/log/ldirectord.log"
quiescent=yes

virtual=192.168.1.200:80
        real=192.168.1.2:80 gate
        real=192.168.1.3:80 gate
        service=http
        request="test.html"
        receive="OK"
        scheduler=rr
        protocol=tcp
        checktype=negotiate
`;

function errors(text: string): string[] {
  return parseDirectorConfig(text, 'f')
    .diagnostics.filter((d) => d.severity === 'error')
    .map(formatDiagnostic);
}

describe('ldirectord.cf parser', () => {
  it('accepts the tutorial configuration unchanged', () => {
    const r = parseDirectorConfig(TUTORIAL, '/etc/ha.d/ldirectord.cf');
    expect(r.diagnostics).toEqual([]);
    const c = r.config!;
    expect(c.name).toBe('ldirectord.cf');
    expect(c.autoreload).toBe(true);
    const [v] = c.virtuals;
    expect(v).toMatchObject({
      id: 'tcp:192.168.1.200:80',
      protocol: 'tcp',
      address: '192.168.1.200',
      port: 80,
      service: 'http',
      request: '/test.html',
      receive: 'OK',
      scheduler: 'rr',
      checktype: 'negotiate',
      quiescent: true,
      checktimeoutS: 3,
      negotiatetimeoutS: 3,
      checkintervalS: 1,
      failurecount: 1,
      successcount: 1,
    });
    expect(v?.reals.map((r) => `${r.ip}:${r.port}/${r.forward}/${r.weight}`)).toEqual([
      '192.168.1.2:80/gate/1',
      '192.168.1.3:80/gate/1',
    ]);
  });

  it('settles defaults as ldirectord does', () => {
    const c = parseDirectorConfig('virtual=10.0.0.1:53\n\treal=10.0.0.2 masq 3 "x", "y" l:2 u:9\n', 'f')
      .config!;
    const v = c.virtuals[0]!;
    expect(v.protocol).toBe('udp'); // port 53 → udp
    expect(v.service).toBe('dns');
    expect(v.quiescent).toBe(false); // the code's default, not the manual's
    expect(v.checktimeoutS).toBe(5);
    expect(v.negotiatetimeoutS).toBe(30);
    expect(v.scheduler).toBe('wrr');
    expect(v.reals[0]).toMatchObject({
      port: 0,
      forward: 'masq',
      weight: 3,
      request: '/x',
      receive: 'y',
      lowerThreshold: 2,
      upperThreshold: 9,
    });
  });

  it('expands a->b ranges and reads fwmark services and fallbacks', () => {
    const c = parseDirectorConfig(
      'fallback=127.0.0.1:80\nvirtual=7\n\treal=10.0.0.1->10.0.0.3 gate\nvirtual=10.0.0.9:443\n\treal=10.0.0.1:443 gate\n\tfallback=10.0.0.8:8443 masq\n',
      'f',
    ).config!;
    expect(c.virtuals[0]).toMatchObject({ id: 'fwm:7', protocol: 'fwm', service: 'none' });
    expect(c.virtuals[0]?.reals.map((r) => r.ip)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(c.virtuals[1]).toMatchObject({
      service: 'https',
      fallback: { ip: '10.0.0.8', port: 8443, forward: 'masq' },
    });
  });

  it.each([
    [
      'checkinterval=0\n',
      'f:1: error: invalid check interval value "0" (checkinterval takes a whole number above 0)',
    ],
    [
      'checkintervall=5\n',
      'f:1: error: Unknown command "checkintervall" outside a virtual block (did you mean "checkinterval"?)',
    ],
    ['connecttimeout=5\n', 'f:1: error: connecttimeout directive deprecated in favour of negotiatetimeout'],
    [
      'real=1.2.3.4:80 gate\n',
      'f:1: error: "real" belongs inside a virtual= block (indent it by a tab or four spaces under its virtual= line)',
    ],
    [
      'virtual=1.2.3.4:80\n\treal=1.2.3.5:80 route\n',
      'f:2: error: forward method must be gate, masq or ipip (not "route")',
    ],
    [
      'virtual=1.2.3.4:80\n\tchecktype=http\n',
      'f:2: error: checktype must be "connect", "negotiate", "on", "off", "ping", "external", "external-perl" or a positive number (not "http")',
    ],
    ['virtual=1.2.3.4:80\n\tquiescent=true\n', "f:2: error: quiescent must be 'yes' or 'no' (not \"true\")"],
    [
      'virtual=1.2.3.4:80\n\treceive="(unclosed"\n',
      'f:2: error: receive is not a valid regular expression: Invalid regular expression: /(unclosed/: Unterminated group',
    ],
    [
      'virtual=1.2.3.4:80\nvirtual=1.2.3.4:80\n',
      'f:2: error: duplicate virtual server tcp:1.2.3.4:80 (merge the two virtual= blocks)',
    ],
    [
      'virtual=web.example:80\n',
      'f:1: error: invalid address "web.example" for virtual server (tsbeat director does not resolve host names at start; write the IPv4 address)',
    ],
    [
      'virtual=1.2.3.4:80\n\treal=1.2.3.5:80 gate 1 junk\n',
      'f:2: error: Invalid real server line, around "junk"',
    ],
    [
      '#tsbeat: quiescent = yes\n',
      'f:1: error: "quiescent" is not a tsbeat extension (#tsbeat: lines take quorum, hysteresis, quorum_up, quorum_down, successcount, digest, maxchecks)',
    ],
    [
      'virtual=1.2.3.4:80\n\t#tsbeat: quorum = 2\n\t#tsbeat: hysteresis = 2\n',
      'f:1: error: hysteresis 2 must be below quorum 2 (quorum is lost below quorum - hysteresis, which must stay above 0)',
    ],
    [
      'virtual=1.2.3.4:80\n\tdigest = abc\n',
      'f:2: error: invalid digest "abc" (give the 32 hex digits of the body\'s MD5 (md5sum))',
    ],
  ])('reports %j with its line', (text, message) => {
    expect(errors(text)).toEqual([message]);
  });

  it('collects every error rather than stopping at the first', () => {
    expect(errors('checkinterval=x\nfoo=1\nvirtual=1.2.3.4:80\n\tbar=2\n')).toHaveLength(3);
  });

  it('reads the extensions as #tsbeat: comments and as plain directives', () => {
    const text = `#tsbeat: quorum = 3
virtual=10.0.0.1:80
\treal=10.0.0.2:80 gate 2
\treal=10.0.0.3:80 gate 2
\t#tsbeat: hysteresis = 1
\t#tsbeat: quorum_up = "/bin/echo up"
\tquorum_down = /bin/echo down
\tsuccesscount = 2
\tdigest = 0123456789abcdef0123456789ABCDEF
`;
    const r = parseDirectorConfig(text, 'f');
    expect(r.diagnostics).toEqual([]);
    expect(r.config?.virtuals[0]).toMatchObject({
      quorum: 3,
      hysteresis: 1,
      quorumUp: '/bin/echo up',
      quorumDown: '/bin/echo down',
      successcount: 2,
      digest: '0123456789abcdef0123456789abcdef',
    });
  });
});
