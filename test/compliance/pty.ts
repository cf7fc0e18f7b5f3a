// Part: a socat pty pair for the serial tests: two pseudo-terminals joined like a null-modem
// cable. Private to test/compliance; the process is ours and is ended by its pid.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';

/** Two connected ptys and the socat process joining them. */
export interface PtyPair {
  readonly a: string;
  readonly b: string;
  readonly pid: number;
  /** Ends socat (by pid) and waits for it to exit. */
  stop(): Promise<void>;
}

/** True when socat is installed. */
export function socatAvailable(): boolean {
  try {
    execFileSync('socat', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Starts `socat -d -d pty,raw,echo=0 pty,raw,echo=0` and reads the two pty paths from its log. */
export function startPtyPair(timeoutMs = 20_000): Promise<PtyPair> {
  const child = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) return Promise.reject(new Error('socat did not start'));
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => {
      void stopChild(child);
      reject(new Error(`socat gave no pty pair within ${timeoutMs} ms: ${log}`));
    }, timeoutMs);
    const onEarlyExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`socat exited (${code}): ${log}`));
    };
    child.once('exit', onEarlyExit);
    child.stderr?.setEncoding('utf8');
    const onData = (chunk: string): void => {
      log += chunk;
      const paths = [...log.matchAll(/PTY is (\/dev\/\S+)/g)].map((m) => m[1]!);
      // Both ends exist once socat announces its transfer loop.
      if (paths.length >= 2 && /starting data transfer loop/.test(log)) {
        clearTimeout(timer);
        child.off('exit', onEarlyExit);
        // Keep draining stderr (socat logs on exit too) without acting on it again.
        child.stderr?.off('data', onData);
        child.stderr?.resume();
        resolve({ a: paths[0]!, b: paths[1]!, pid, stop: () => stopChild(child) });
      }
    };
    child.stderr?.on('data', onData);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
