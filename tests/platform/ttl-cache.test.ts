import t from 'tap'
import { createTtlCache } from '../../src/lib/ttl-cache.js'

// The cache ages by the clock it is given: these tests move it by hand, never wait.

t.test('concurrent asks share one load; the answer is reused for ttlMs, then loaded again', async t => {
  let clock = 1_000
  let loads = 0
  const cache = createTtlCache<string>({ ttlMs: 100, maxEntries: 10, now: () => clock })
  const load = async (): Promise<string> => `answer ${++loads}`
  t.same(await Promise.all([cache.get('k', load), cache.get('k', load), cache.get('k', load)]), ['answer 1', 'answer 1', 'answer 1'])
  clock += 99
  t.equal(await cache.get('k', load), 'answer 1', 'still kept 1 ms before ttlMs')
  clock += 1
  t.equal(await cache.get('k', load), 'answer 2', 'loaded again at ttlMs')
  t.equal(await cache.get('other', load), 'answer 3', 'keys are separate')
  cache.clear()
  t.equal(await cache.get('k', load), 'answer 4', 'clear() forgets everything')
})

t.test('failures and answers `keep` rejects are not kept', async t => {
  const cache = createTtlCache<number>({ ttlMs: 60_000, maxEntries: 10, keep: value => value > 0, now: () => 0 })
  await t.rejects(cache.get('k', async () => { throw new Error('down') }), /down/)
  t.equal(await cache.get('k', async () => 0), 0)
  t.equal(await cache.get('k', async () => 7), 7, 'neither the failure nor the rejected 0 was kept')
  t.equal(await cache.get('k', async () => 8), 7, 'a kept answer is')
})

t.test('at most maxEntries keys are held, the oldest goes first', async t => {
  const cache = createTtlCache<string>({ ttlMs: 60_000, maxEntries: 2, now: () => 0 })
  for (const key of ['a', 'b', 'c']) await cache.get(key, async () => `${key}1`)
  t.equal(await cache.get('c', async () => 'c2'), 'c1')
  t.equal(await cache.get('b', async () => 'b2'), 'b1')
  t.equal(await cache.get('a', async () => 'a2'), 'a2', 'the oldest was dropped')
})
