/**
 * Runs tasks for the same key one after another (in this process); different keys run freely.
 * Entries are dropped as soon as a key has nothing queued, so the map does not grow.
 */
export function createKeyedMutex () {
  const tails = new Map<string, Promise<unknown>>()
  return async function withLock<T> (key: string, task: () => Promise<T>): Promise<T> {
    const previous = tails.get(key) ?? Promise.resolve()
    const run = previous.then(task, task)
    const tail = run.catch(() => {})
    tails.set(key, tail)
    try {
      return await run
    } finally {
      if (tails.get(key) === tail) tails.delete(key)
    }
  }
}
