// Part: XState, loaded from its ES module build.
//
// `import ... from 'xstate'` gets the package's `import` condition, a thin ES wrapper around its
// CommonJS build: that pulls Node's CommonJS loader and export lexer into a daemon that is
// otherwise all ES modules, about 6 MB of resident memory against 1.7 MB for the same code from
// the ES module build (the `module` condition of its package exports, what bundlers load).
// Node only honours `module` under --conditions=module, which `tsbeat start` cannot pass to
// itself, so the file is found through the package's own exports here. Should a later XState
// drop that condition, the plain import is used (test/unit/lib/xstate.test.ts then fails).

import { readFileSync } from 'node:fs';

type XState = typeof import('xstate');

/** The URL of the ES module build xstate's package.json declares, or undefined. */
export function xstateEsmUrl(): string | undefined {
  try {
    const pkgUrl = import.meta.resolve('xstate/package.json');
    const pkg = JSON.parse(readFileSync(new URL(pkgUrl), 'utf8')) as {
      exports?: { '.'?: { module?: unknown } };
    };
    const file = pkg.exports?.['.']?.module;
    return typeof file === 'string' && file.startsWith('./') ? new URL(file, pkgUrl).href : undefined;
  } catch {
    return undefined;
  }
}

/** Which file XState was loaded from (for the test that it is the ES module build). */
export const XSTATE_URL: string = xstateEsmUrl() ?? import.meta.resolve('xstate');

const xstate = (await import(XSTATE_URL)) as XState;

export const { assign, createActor, fromPromise, setup } = xstate;
export type { Actor } from 'xstate';
