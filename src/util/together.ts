/**
 * Independent reads issued at once: on FoundationDB each awaited read is a network round trip,
 * and reads in flight together share one. Each read is started through an async function, so one
 * that throws synchronously (a transaction already closed) becomes a rejection like the others and
 * never leaves another read's rejection unhandled.
 * @internal
 */
export function together<const T extends ReadonlyArray<() => unknown>>(...reads: T): Promise<{ -readonly [K in keyof T]: Awaited<ReturnType<T[K]>> }> {
  return Promise.all(reads.map(async (read) => read())) as Promise<{ -readonly [K in keyof T]: Awaited<ReturnType<T[K]>> }>;
}
