// Part: waiting inside an agent action — whole-second pauses between retries (heartbeat's
// `sleep 1`) that end early when the caller gives up.

/** Resolve after `ms`, or at once when `signal` aborts (then true). */
export function sleepMs(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve(true);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
