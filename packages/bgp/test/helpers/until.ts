/** Resolves with `fn()`'s first truthy value, polled every 5 ms; rejects after `timeoutMs`. */
export function until<T>(fn: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      const v = fn();
      if (v !== undefined && v !== false) return resolve(v);
      if (Date.now() - t0 > timeoutMs) return reject(new Error(`condition not met within ${timeoutMs} ms`));
      setTimeout(tick, 5);
    };
    tick();
  });
}
