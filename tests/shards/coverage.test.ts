import t from 'tap'
import { modulesOf, SHARDS } from './shard.js'

t.test('every test module runs in exactly one shard', async t => {
  const all = Array.from({ length: SHARDS }, (_, i) => modulesOf(i)).flat()
  t.equal(new Set(all).size, all.length, 'no module runs twice')
  t.ok(all.includes('teleconsultations/create.test.ts'), 'route tests are found')
  t.ok(all.includes('server.test.ts'), 'top-level tests are found')
  t.notOk(all.some(path => path.startsWith('shards/')), 'shards do not run themselves')
})
