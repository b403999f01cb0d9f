import t from 'tap'
import { createRoom, startHarness } from './fixtures/harness.js'

t.test('uploads: list by room with pagination, delete by key', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const room = await createRoom(h)
  const other = await createRoom(h)
  const keys = h.emu.addUploads(room.room_id, 25)
  h.emu.addUploads(other.room_id, 3)
  t.equal(keys.length, 25)
  t.equal(new Set(keys).size, 25, 'keys are unique')
  t.same(h.emu.uploadsOf(room.room_id), keys)

  const first = await h.obj('GET', '/v2/uploads', { query: { room_id: room.room_id } })
  t.equal(first.status, 200)
  t.match(first.body, { offset: 0, limit: 10, count: 10, has_more: true }, 'default limit is 10')
  t.match(first.body.uploads[0], { key: keys[0], room_id: room.room_id, file_name: 'file-1.pdf' })
  t.ok(!Number.isNaN(Date.parse(first.body.uploads[0].creation_date)))

  const seen: string[] = []
  for (let offset = 0; ; offset += 7) {
    const page = await h.obj('GET', '/v2/uploads', { query: { room_id: room.room_id, offset, limit: 7 } })
    seen.push(...page.body.uploads.map((u: { key: string }) => u.key))
    if (page.body.has_more !== true) break
  }
  t.same(seen, keys, 'walking the pages returns every key once, in order')

  const max = await h.obj('GET', '/v2/uploads', { query: { room_id: room.room_id, limit: 100 } })
  t.equal(max.body.uploads.length, 25)
  for (const limit of ['101', '0', '-1', 'ten']) {
    const res = await h.obj('GET', '/v2/uploads', { query: { room_id: room.room_id, limit } })
    t.equal(res.status, 422, `limit ${limit} is refused`)
    t.equal(res.body.error, 'validation_error')
  }
  t.equal((await h.obj('GET', '/v2/uploads', { query: { room_id: room.room_id, offset: 'x' } })).status, 422)
  t.equal((await h.obj('GET', '/v2/uploads', { query: { room_id: 'room_none' } })).body.uploads.length, 0)

  const deleted = await h.obj('DELETE', `/v2/uploads/${keys[0]}`)
  t.equal(deleted.status, 200)
  t.same(deleted.body, { key: keys[0] })
  const again = await h.obj('DELETE', `/v2/uploads/${keys[0]}`)
  t.equal(again.status, 404)
  t.equal(again.body.error, 'not_found')
  t.equal(h.emu.uploadsOf(room.room_id).length, 24)
  t.equal(h.emu.uploadsOf(other.room_id).length, 3, 'other rooms untouched')

  t.throws(() => h.emu.addUploads('room_missing', 1), /unknown room/)
})
