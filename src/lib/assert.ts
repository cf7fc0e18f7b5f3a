// Part: programmer-error checks that stay on in production (TigerBeetle habit).

/** Thrown when an invariant the code itself guarantees is broken: a bug, never bad input. */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

/** Crash on a broken invariant. Input from the world must be handled as a value, never asserted. */
export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Exhaustiveness check for discriminated unions: the compiler proves this is unreachable. */
export function assertNever(value: never, what = 'value'): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(value)}`);
}
