// An async iterable's values passed through a function, one `then` per value: written by hand
// rather than as an async generator (`for await ... yield`), which costs several promises more
// per value on a path every streamed event takes.
/** `source` with `fn` applied to each value; return() and throw() reach the source. */
export function mapAsync<S, T>(source: AsyncIterable<S>, fn: (value: S) => T): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const it = source[Symbol.asyncIterator]();
      const step = (r: IteratorResult<S>): IteratorResult<T> => (r.done ? { done: true, value: undefined } : { done: false, value: fn(r.value) });
      return {
        next: () => it.next().then(step),
        return: async (value?: unknown) => {
          await it.return?.(value);
          return { done: true, value: undefined };
        },
        throw: async (err?: unknown) => {
          if (it.throw) return step(await it.throw(err));
          throw err;
        },
      };
    },
  };
}
