// Ending a stream's hold on something (a cap's slot, an abort signal, a gauge) however the stream
// ends. Written by hand rather than as an async generator: every event of every subscription
// passes through it, and a generator's step costs several promises more than one `then`.
/** An iterable that calls `release` once when iteration ends, fails or is abandoned (even before it started). */
export function releasing<T>(source: AsyncIterable<T>, onRelease: () => void): AsyncIterable<T> {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    onRelease();
  };
  const ended = (r: IteratorResult<T>) => {
    if (r.done) release();
    return r;
  };
  const failed = (err: unknown): never => {
    release();
    throw err;
  };
  return {
    [Symbol.asyncIterator]() {
      const it = source[Symbol.asyncIterator]();
      return {
        next() {
          try {
            return it.next().then(ended, failed);
          } catch (err) {
            release();
            return Promise.reject(err);
          }
        },
        async return(value?: unknown) {
          release();
          return (await it.return?.(value)) ?? { done: true as const, value: undefined };
        },
        async throw(err?: unknown) {
          release();
          if (it.throw) return it.throw(err);
          throw err;
        },
      };
    },
  };
}
