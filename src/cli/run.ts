// Part: process entry glue shared by every command: exit codes, and no stack traces for users.

/**
 * Run a command's main and exit with its code. An unexpected exception is a bug: say so
 * in one line (the stack only with TSBEAT_DEBUG=1) and exit 70 (EX_SOFTWARE).
 */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.exitCode = 70;
      // Loaded on this path only: every command's start-up (hb_standby's is timed) would pay
      // for two more modules. If even they cannot be loaded, the report is still made.
      Promise.all([import('../lib/assert.js'), import('../lib/printable.js')]).then(
        ([{ AssertionError }, { printable }]) => reportBug(err, err instanceof AssertionError, printable),
        () => reportBug(err, false, (text, max) => JSON.stringify(text).slice(1, -1).slice(0, max)),
      );
    },
  );
}

function reportBug(err: unknown, assertion: boolean, printable: (text: string, max: number) => string): void {
  const what = assertion ? 'internal error' : 'unexpected error';
  // The message may quote a path or an argument: print it escaped and cut.
  const msg = printable(err instanceof Error ? err.message : String(err), 500);
  process.stderr.write(`tsbeat: ${what}: ${msg}\n`);
  if (process.env['TSBEAT_DEBUG'] === '1' && err instanceof Error && err.stack) {
    process.stderr.write(`${err.stack}\n`);
  } else {
    process.stderr.write('tsbeat: this is a bug; run again with TSBEAT_DEBUG=1 and report the output\n');
  }
}
