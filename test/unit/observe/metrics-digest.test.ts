/**
 * The metrics registry's two expositions and the config digest. Proves: counters, gauges
 * (stored and collected at scrape time) and histograms come out in the classic text format
 * that the real `promtool check metrics` accepts (label values with quotes, backslashes and
 * newlines escaped) and in OpenMetrics form (counter TYPE without _total, `# EOF`); the HTTP
 * listener serves each format by the Accept header, 404s other paths, and a port in use is a
 * named error. The digest ignores comments, blank lines, blank runs and ha.cf's media and
 * logging lines, and names exactly the files that differ; the message round-trips and a
 * malformed one is refused.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { getString } from '../../../src/codec/model.js';
import { Registry } from '../../../src/metrics/registry.js';
import { MetricsListenError, startMetricsServer } from '../../../src/metrics/server.js';
import {
  differingFiles,
  digestMessage,
  digestText,
  parseDigestFields,
} from '../../../src/observe/config-digest.js';

function sample(): Registry {
  const r = new Registry();
  r.counter('tsbeat_takeovers', 'Takeovers.');
  r.counter('tsbeat_fence_attempts', 'Fences.');
  r.inc('tsbeat_fence_attempts', { node: 'no"de\\2\n' }, 2);
  r.gauge('tsbeat_link_up', 'Links.', () => [{ labels: { node: 'node2', link: 'eth0' }, value: 1 }]);
  r.gauge('tsbeat_generation', 'Gen.');
  r.set('tsbeat_generation', { node: 'node1' }, 7);
  r.histogram('tsbeat_fence_duration_seconds', 'Fence durations.', [0.1, 1]);
  r.observe('tsbeat_fence_duration_seconds', {}, 0.05);
  r.observe('tsbeat_fence_duration_seconds', {}, 0.5);
  r.observe('tsbeat_fence_duration_seconds', {}, 5);
  return r;
}

describe('metrics exposition', () => {
  it('classic text format, accepted by promtool check metrics', () => {
    const text = sample().expose(false);
    expect(text).toBe(
      [
        '# HELP tsbeat_takeovers_total Takeovers.',
        '# TYPE tsbeat_takeovers_total counter',
        'tsbeat_takeovers_total 0',
        '# HELP tsbeat_fence_attempts_total Fences.',
        '# TYPE tsbeat_fence_attempts_total counter',
        'tsbeat_fence_attempts_total{node="no\\"de\\\\2\\n"} 2',
        '# HELP tsbeat_link_up Links.',
        '# TYPE tsbeat_link_up gauge',
        'tsbeat_link_up{node="node2",link="eth0"} 1',
        '# HELP tsbeat_generation Gen.',
        '# TYPE tsbeat_generation gauge',
        'tsbeat_generation{node="node1"} 7',
        '# HELP tsbeat_fence_duration_seconds Fence durations.',
        '# TYPE tsbeat_fence_duration_seconds histogram',
        'tsbeat_fence_duration_seconds_bucket{le="0.1"} 1',
        'tsbeat_fence_duration_seconds_bucket{le="1"} 2',
        'tsbeat_fence_duration_seconds_bucket{le="+Inf"} 3',
        'tsbeat_fence_duration_seconds_count 3',
        'tsbeat_fence_duration_seconds_sum 5.55',
        '',
      ].join('\n'),
    );
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(
      lint.error,
      'promtool missing: apt-get install prometheus (scripts/install-deps.sh)',
    ).toBeUndefined();
    expect({ status: lint.status, out: lint.stdout + lint.stderr }).toEqual({ status: 0, out: '' });
  });

  it('promtool does fail on a broken exposition (the check above can fail)', () => {
    const lint = spawnSync('promtool', ['check', 'metrics'], {
      input: '# TYPE x_total counter\nx_total{a="1"} one\n',
      encoding: 'utf8',
    });
    expect(lint.status).not.toBe(0);
  });

  it('OpenMetrics form: counter families without _total, # EOF last', () => {
    const om = sample().expose(true);
    expect(om).toContain('# TYPE tsbeat_takeovers counter\ntsbeat_takeovers_total 0\n');
    expect(om.endsWith('\n# EOF\n')).toBe(true);
  });

  it('the listener: format by Accept header, 404 elsewhere, a busy port is a named error', async () => {
    const r = sample();
    const s = await startMetricsServer({ host: '127.0.0.1', port: 0 }, r);
    const url = `http://127.0.0.1:${s.port}`;
    try {
      const classic = await fetch(`${url}/metrics`);
      expect(classic.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(await classic.text()).toBe(r.expose(false));
      const om = await fetch(`${url}/metrics`, {
        headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;q=0.5' },
      });
      expect(om.headers.get('content-type')).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
      expect(await om.text()).toBe(r.expose(true));
      expect((await fetch(`${url}/`)).status).toBe(404);
      expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(405);
      await expect(startMetricsServer({ host: '127.0.0.1', port: s.port }, r)).rejects.toThrow(
        new MetricsListenError(`metrics: cannot listen on 127.0.0.1:${s.port}: EADDRINUSE`),
      );
    } finally {
      await s.close();
    }
  });
});

describe('config digest', () => {
  const hacf = 'logfile /var/log/ha-log\nkeepalive 1\nucast eth0 10.0.0.2\nnode a b\n';
  it('comments, blank lines, blank runs and per-machine ha.cf lines do not count', () => {
    expect(digestText('ha.cf', hacf)).toBe(
      digestText(
        'ha.cf',
        '# node b\ndebugfile /x\nkeepalive   1 # s\n\nucast eth1 10.0.0.1\nlogfacility local0\nnode a b',
      ),
    );
    expect(digestText('ha.cf', hacf)).not.toBe(
      digestText('ha.cf', hacf.replace('keepalive 1', 'keepalive 2')),
    );
    // The same text is a different digest for another file.
    expect(digestText('haresources', 'a b')).not.toBe(digestText('authkeys', 'a b'));
    expect(digestText('haresources', 'a b')).toMatch(/^[0-9a-f]{16}$/);
  });

  it('names exactly the files that differ', () => {
    const mine = {
      'ha.cf': digestText('ha.cf', hacf),
      haresources: digestText('haresources', 'node1 a'),
      authkeys: '0123456789abcdef',
    };
    expect(differingFiles(mine, { ...mine })).toEqual([]);
    expect(differingFiles(mine, { ...mine, haresources: digestText('haresources', 'node1 a b') })).toEqual([
      'haresources',
    ]);
    expect(differingFiles(mine, { ...mine, 'ha.cf': 'unreadable', authkeys: 'fedcba9876543210' })).toEqual([
      'ha.cf',
      'authkeys',
    ]);
  });

  it('the message round-trips; a malformed one is refused', () => {
    const d = {
      'ha.cf': '0123456789abcdef',
      haresources: 'unreadable',
      authkeys: 'fedcba9876543210',
    } as const;
    const msg = digestMessage(d);
    expect(getString(msg, 't')).toBe('tsbeat-cfg');
    const fields = Object.fromEntries(msg.fields.map((f) => [f.name, getString(msg, f.name) ?? '']));
    expect(parseDigestFields(fields)).toEqual(d);
    expect(parseDigestFields({ ...fields, cfg_hacf: 'x'.repeat(16) })).toBeUndefined();
    expect(parseDigestFields({ t: 'tsbeat-cfg' })).toBeUndefined();
  });
});
