/**
 * A small cache for answers of upstream services: concurrent asks for one key share a single
 * load, a kept answer is reused for `ttlMs`, failures (and answers `keep` rejects) are not kept,
 * and at most `maxEntries` keys are held (the oldest goes first).
 */
export function createTtlCache<V> (opts: {
  ttlMs: number
  maxEntries: number
  keep?: (value: V) => boolean
  now?: () => number
}) {
  const now = opts.now ?? Date.now
  const entries = new Map<string, { expires: number, value: Promise<V> }>()
  return {
    /** The kept answer's own promise, with no wrapper of its own (a poll's room details, say). */
    get (key: string, load: () => Promise<V>): Promise<V> {
      const cached = entries.get(key)
      if (cached !== undefined && cached.expires > now()) return cached.value
      let value: Promise<V>
      try {
        value = load()
      } catch (err) {
        return Promise.reject(err)
      }
      entries.delete(key)
      entries.set(key, { expires: now() + opts.ttlMs, value })
      if (entries.size > opts.maxEntries) entries.delete(entries.keys().next().value as string)
      const forget = (): void => { if (entries.get(key)?.value === value) entries.delete(key) }
      value.then(result => { if (opts.keep !== undefined && !opts.keep(result)) forget() }, forget)
      return value
    },
    clear (): void {
      entries.clear()
    }
  }
}
