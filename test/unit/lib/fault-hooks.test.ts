/**
 * The test-only fault hook list (TSBEAT_TEST_FAULT): proves the parser reads a comma-separated
 * list of `name[:arg...]`, skips blanks and empty items, reports bad names and overlong lists
 * instead of throwing, that matching is positional with `*`/empty/missing arguments as
 * wildcards, and that an unset or empty variable activates nothing.
 */
import { describe, expect, it } from 'vitest';
import { activeFaultHooks, FAULT_ENV, faultHook, parseFaultHooks } from '../../../src/lib/fault-hooks.js';

describe('TSBEAT_TEST_FAULT', () => {
  it('reads a comma-separated list of name[:arg...]', () => {
    expect(parseFaultHooks(' agent-hang:Dummy:start:b , ,timer-throw,recv-throw:node1 ')).toEqual({
      hooks: [
        { name: 'agent-hang', args: ['Dummy', 'start', 'b'] },
        { name: 'timer-throw', args: [] },
        { name: 'recv-throw', args: ['node1'] },
      ],
      errors: [],
    });
  });

  it('reports what it cannot read, and never throws', () => {
    const r = parseFaultHooks('Agent-Hang:x,:x,ok,' + 'x'.repeat(300));
    expect(r.hooks).toEqual([{ name: 'ok', args: [] }]);
    expect(r.errors).toHaveLength(3);
    expect(r.errors[0]).toMatch(/"Agent-Hang" is not a fault hook name/);
    expect(parseFaultHooks(Array.from({ length: 40 }, () => 'a').join(',')).hooks).toHaveLength(32);
    expect(parseFaultHooks(undefined)).toEqual({ hooks: [], errors: [] });
  });

  it('matches arguments by position; missing, empty and * arguments match anything', () => {
    const env = { [FAULT_ENV]: 'agent-hang:Dummy:start:b,agent-hang:IPaddr2,agent-hang:SendArp:*:x' };
    expect(faultHook('agent-hang', ['Dummy', 'start', 'b'], env)).toBeDefined();
    expect(faultHook('agent-hang', ['Dummy', 'start', 'a'], env)).toBeUndefined();
    expect(faultHook('agent-hang', ['Dummy', 'stop', 'b'], env)).toBeUndefined();
    expect(faultHook('agent-hang', ['IPaddr2', 'stop', '10.0.0.1'], env)).toBeDefined();
    expect(faultHook('agent-hang', ['SendArp', 'status', 'x'], env)).toBeDefined();
    expect(faultHook('agent-hang', ['SendArp', 'status', 'y'], env)).toBeUndefined();
    expect(faultHook('agent-hang', ['Dummy'], env)).toBeUndefined();
    expect(faultHook('other', ['Dummy', 'start', 'b'], env)).toBeUndefined();
  });

  it('is inert when unset or empty', () => {
    expect(activeFaultHooks({})).toEqual([]);
    expect(activeFaultHooks({ [FAULT_ENV]: '' })).toEqual([]);
    expect(faultHook('agent-hang', ['Dummy', 'start', ''], {})).toBeUndefined();
  });
});
