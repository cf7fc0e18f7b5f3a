/**
 * src/lib/xstate.ts loads XState from the ES module build its package declares (the `module`
 * condition), not through the CommonJS wrapper `import 'xstate'` gets: the same package, the
 * same exports, and a machine made with one runs in the other's actor.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as plain from 'xstate';
import {
  assign,
  createActor,
  fromPromise,
  setup,
  XSTATE_URL,
  xstateEsmUrl,
} from '../../../src/lib/xstate.js';

describe('xstate from its ES module build', () => {
  it('is the file the package declares under the module condition', () => {
    const pkgUrl = import.meta.resolve('xstate/package.json');
    const pkg = JSON.parse(readFileSync(new URL(pkgUrl), 'utf8')) as {
      exports: { '.': { module: string; import: string } };
    };
    expect(xstateEsmUrl()).toBe(new URL(pkg.exports['.'].module, pkgUrl).href);
    expect(XSTATE_URL).toBe(xstateEsmUrl());
    expect(XSTATE_URL).not.toBe(new URL(pkg.exports['.'].import, pkgUrl).href);
  });

  it('is the same xstate: the same exports as the plain import', async () => {
    const esm = (await import(XSTATE_URL)) as Record<string, unknown>;
    expect(Object.keys(esm).sort()).toEqual(Object.keys(plain).sort());
    expect(XSTATE_URL.startsWith(new URL('.', import.meta.resolve('xstate/package.json')).href)).toBe(true);
  });

  it('runs a machine', async () => {
    const m = setup({
      types: { context: {} as { n: number } },
      actors: { one: fromPromise(async () => 1) },
    }).createMachine({
      context: { n: 0 },
      initial: 'busy',
      states: {
        busy: {
          invoke: {
            src: 'one',
            onDone: { target: 'done', actions: assign({ n: ({ event }) => event.output }) },
          },
        },
        done: { type: 'final' },
      },
    });
    for (const make of [createActor, plain.createActor]) {
      const a = make(m).start();
      await new Promise<void>((resolve) => a.subscribe({ complete: resolve }));
      expect(a.getSnapshot().context.n).toBe(1);
    }
  });
});
