// Part: test-only fault hooks: the environment variable TSBEAT_TEST_FAULT names faults a test
// wants injected into a real daemon (e.g. "agent-hang:Dummy:start"). Read at the moment a hook
// point is reached, so a test can also set it for one daemon only; inert when unset. Never set
// it in production: every hook that fires logs a warning saying so.

/** The environment variable tests set; documented as test-only in tsbeat(8). */
export const FAULT_ENV = 'TSBEAT_TEST_FAULT';

/** One requested fault: `name[:arg[:arg...]]`. */
export interface FaultHook {
  readonly name: string;
  readonly args: readonly string[];
}

export interface ParsedFaultHooks {
  readonly hooks: readonly FaultHook[];
  /** Items that could not be read, each with the reason (for a warning at start-up). */
  readonly errors: readonly string[];
}

const NAME = /^[a-z][a-z0-9-]*$/;
/** Generous bounds: the value comes from the environment, not from the network, but stays cheap. */
const MAX_ITEMS = 32;
const MAX_ITEM_CHARS = 256;

/**
 * A comma-separated list of `name[:arg...]` items; blanks around items are ignored, empty items
 * skipped. A name is lower-case letters, digits and dashes. Unknown names are kept (the hook
 * points decide what they know), so the list can grow without changing this parser.
 */
export function parseFaultHooks(text: string | undefined): ParsedFaultHooks {
  const hooks: FaultHook[] = [];
  const errors: string[] = [];
  if (text === undefined) return { hooks, errors };
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const item of items.slice(0, MAX_ITEMS)) {
    if (item.length > MAX_ITEM_CHARS) {
      errors.push(`a fault hook longer than ${MAX_ITEM_CHARS} characters`);
      continue;
    }
    const [name = '', ...args] = item.split(':');
    if (!NAME.test(name)) {
      errors.push(`"${name.slice(0, 40)}" is not a fault hook name (lower-case letters, digits, dashes)`);
      continue;
    }
    hooks.push({ name, args });
  }
  if (items.length > MAX_ITEMS) errors.push(`only the first ${MAX_ITEMS} fault hooks are used`);
  return { hooks, errors };
}

/** The hooks the environment asks for now. */
export function activeFaultHooks(env: NodeJS.ProcessEnv = process.env): readonly FaultHook[] {
  const text = env[FAULT_ENV];
  return text === undefined || text === '' ? [] : parseFaultHooks(text).hooks;
}

/**
 * The first active hook called `name` whose arguments match `values` position by position; a
 * hook argument that is missing, empty or `*` matches anything (so `agent-hang:Dummy` hangs every
 * action of every Dummy resource, `agent-hang:Dummy:start:b` only the start of `Dummy::b`).
 */
export function faultHook(
  name: string,
  values: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): FaultHook | undefined {
  return activeFaultHooks(env).find(
    (h) =>
      h.name === name &&
      h.args.every((a, i) => a === '' || a === '*' || (i < values.length && a === values[i])),
  );
}
