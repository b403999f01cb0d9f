/** Runs `task` on every item with at most `limit` running at once; waits for all; never rejects. */
export async function settleEach<T, R> (
  items: T[],
  task: (item: T) => Promise<R>,
  limit = Number.POSITIVE_INFINITY
): Promise<Array<PromiseSettledResult<R>>> {
  const results: Array<PromiseSettledResult<R>> = new Array(items.length)
  let next = 0
  async function worker (): Promise<void> {
    while (next < items.length) {
      const index = next++
      try {
        results[index] = { status: 'fulfilled', value: await task(items[index]) }
      } catch (reason) {
        results[index] = { status: 'rejected', reason }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/**
 * Like Promise.all, but rejects (with the first failure) only once every task has ended, so no
 * work goes on after the caller has answered.
 */
export async function allOrFirstError<T, R> (items: T[], task: (item: T) => Promise<R>): Promise<R[]> {
  const settled = await settleEach(items, task)
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  return settled.map(s => (s as PromiseFulfilledResult<R>).value)
}
