// Ending a stream's hold on something (a cap's slot, an abort signal) however the stream ends.
/** An iterable that calls `release` once when iteration ends, fails or is abandoned (even before it started). */
export function releasing<T>(source: AsyncIterable<T>, onRelease: () => void): AsyncIterable<T> {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    onRelease();
  };
  return {
    [Symbol.asyncIterator]() {
      const it = source[Symbol.asyncIterator]();
      return {
        async next() {
          try {
            const r = await it.next();
            if (r.done) release();
            return r;
          } catch (err) {
            release();
            throw err;
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
