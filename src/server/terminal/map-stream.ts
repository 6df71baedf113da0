// A stream's items mapped one by one, with return() passed through at once, so ending the mapped
// stream ends the source even when its first item was never asked for (an async generator that
// never started would not pass it on).
export function mapStream<T, U>(source: AsyncIterable<T>, map: (item: T) => U): AsyncIterable<U> {
  return {
    [Symbol.asyncIterator]() {
      const it = source[Symbol.asyncIterator]();
      return {
        async next(): Promise<IteratorResult<U>> {
          const r = await it.next();
          return r.done ? { done: true, value: undefined } : { done: false, value: map(r.value) };
        },
        async return(): Promise<IteratorResult<U>> {
          await it.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
