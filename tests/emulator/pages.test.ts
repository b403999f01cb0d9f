import t from 'tap'
import { FormData, request } from 'undici'
import { decorateLink } from '../../src/kaleyra/model.js'
import { API_KEY, createRoom, startHarness } from './fixtures/harness.js'

t.test('a participant link opens a join page', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const room = await createRoom(h, [['doc', 'plus'], ['pat', 'basic']])
  const link = room.participants[1].link as string

  const plain = await request(link, { dispatcher: h.dispatcher })
  t.equal(plain.statusCode, 200)
  t.match(plain.headers['content-type'], /^text\/html/)
  const html = await plain.body.text()
  t.match(html, `pat joined room ${room.room_id}`)
  t.notMatch(html, /Language/)

  const decorated = decorateLink(link, { language: 'it', virtualBackground: true })
  const withOptions = await (await request(decorated, { dispatcher: h.dispatcher })).body.text()
  t.match(withOptions, /<dt>Language<\/dt><dd>it<\/dd>/)
  t.match(withOptions, /<dt>Virtual background<\/dt><dd>image<\/dd>/)

  const hostile = new URL(link)
  hostile.searchParams.set('language', '<script>alert(1)</script>')
  const escaped = await (await request(hostile, { dispatcher: h.dispatcher })).body.text()
  t.notMatch(escaped, '<script>alert(1)</script>', 'query values are escaped')
  t.match(escaped, '&lt;script&gt;alert(1)&lt;/script&gt;')

  await h.call('DELETE', `/v2/rooms/${room.room_id}`)
  const gone = await request(link, { dispatcher: h.dispatcher })
  t.equal(gone.statusCode, 404)
  t.match(gone.headers['content-type'], /^text\/html/)
  t.match(await gone.body.text(), 'This room no longer exists')

  const unknown = await request(`${h.emu.url}/join/not-a-token`, { dispatcher: h.dispatcher })
  t.equal(unknown.statusCode, 404)
  t.match(await unknown.body.text(), 'This room no longer exists')
})

t.test('the join page shows the default background when asked for one', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const image = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])
  const form = new FormData()
  form.append('virtual_background', new Blob([image], { type: 'image/jpeg' }), 'bg.jpg')
  const up = await request(`${h.emu.url}/v2/company/virtual-background`, { method: 'POST', body: form, headers: { apikey: API_KEY }, dispatcher: h.dispatcher })
  const { alias } = await up.body.json() as { alias: string }
  await h.call('PUT', '/v2/company', { body: { background_alias: alias } })
  const room = await createRoom(h)
  const page = await (
    await request(decorateLink(room.participants[0].link, { virtualBackground: true }), { dispatcher: h.dispatcher })
  ).body.text()
  t.match(page, `<img alt="virtual background" src="/backgrounds/${alias}.jpg">`)
})

t.test('the join page records the join and shows the role, room and teleconsultation', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const room = await createRoom(h)
  const link = room.participants[1].link as string

  const first = await request(link, { dispatcher: h.dispatcher })
  const plain = await first.body.text()
  t.match(plain, /<dt>Role<\/dt><dd>basic<\/dd>/)
  t.notMatch(plain, 'Teleconsultation', 'no teleconsultation without a directory')
  t.match(h.emu.joins(), [{ roomId: room.room_id, userId: 'pat', teleconsultationId: null }])

  h.emu.useTeleconsultations({ roomOf: async () => room.room_id, teleconsultationOf: async () => 'tc-42' })
  const page = await (await request(room.participants[0].link, { dispatcher: h.dispatcher })).body.text()
  t.match(page, /<dt>Teleconsultation<\/dt><dd>tc-42<\/dd>/)
  t.match(page, /<dt>Role<\/dt><dd>plus<\/dd>/)
  const state = await h.obj('GET', '/_emulator/state')
  t.match(state.body.joins, [{ userId: 'pat', teleconsultationId: null }, { userId: 'doc', roomId: room.room_id, teleconsultationId: 'tc-42' }])

  await h.call('DELETE', `/v2/rooms/${room.room_id}`)
  t.equal((await request(link, { dispatcher: h.dispatcher })).statusCode, 404)
  t.equal(h.emu.joins().length, 2, 'a link to a deleted room joins nothing')
})

t.test('the call page can be framed only by the origins the demo allows', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const room = await createRoom(h)
  const link = room.participants[0].link as string

  const closed = await request(link, { dispatcher: h.dispatcher })
  await closed.body.dump()
  t.equal(closed.headers['content-security-policy'], "frame-ancestors 'none'")
  t.equal(closed.headers['x-frame-options'], 'DENY')

  h.emu.allowFraming(['http://127.0.0.1:3000', 'http://localhost:3000'])
  const open = await request(link, { dispatcher: h.dispatcher })
  await open.body.dump()
  t.equal(open.headers['content-security-policy'], 'frame-ancestors http://127.0.0.1:3000 http://localhost:3000')
  t.equal(open.headers['x-frame-options'], undefined)
  t.throws(() => h.emu.allowFraming(["'self'; script-src *"]), /not an origin/)
})
