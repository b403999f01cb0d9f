// An answer the parsers cannot use: the 502 stays, and one error line names the call and the key
// paths the answer had (never a value), so the first real contact says what to change in wire.ts.
import t from 'tap'
import { MockAgent } from 'undici'
import { createKaleyraClient } from '../../src/kaleyra/client.js'
import { KaleyraFormatError } from '../../src/kaleyra/errors.js'
import { diagnose, keyPaths } from '../../src/kaleyra/shape.js'
import { ANSWER_SHAPES } from '../../src/kaleyra/wire.js'
import { setup, startEmulator, UPSTREAM_TIMEOUT_MS } from '../helpers/app.js'
import { body } from '../helpers/fixtures.js'

t.test('key paths: leaves only, [] for array items, never values', async t => {
  const answer = { room: { room_id: 'r1', participants: [{ user_id: 'secret-user', url: 'https://x/join/tok' }, { user_id: 'b', extra: { deep: 1 } }], tags: [] } }
  const { leaves } = keyPaths(answer)
  t.same([...leaves], ['room.room_id', 'room.participants[].user_id', 'room.participants[].url', 'room.participants[].extra.deep', 'room.tags'])
  t.same([...keyPaths([{ alias: 'a' }]).leaves], ['[].alias'])
  t.same([...keyPaths('text').leaves], [])
  const weird = [...keyPaths({ 'line\nbreak': 1, ['k'.repeat(200)]: 2 }).leaves]
  t.same(weird.map(k => k.length), [10, 64], 'keys are printable and short')
})

t.test('a diagnosis: missing fields the service needs, unexpected keys (the topmost unknown one), the wrapper understood', async t => {
  const linkless = diagnose('createRoom', ANSWER_SHAPES.createRoom, {
    room: { room_id: 'r', participants: [{ user_id: 'a', join_url: 'https://x', is_admin: true, tools: { chat: true } }], novelty: { a: 1, b: 2 } }
  }, 'a participant has no link')
  t.same(linkless.missing, ['room.participants[].link'])
  t.same(linkless.unexpected, ['room.participants[].join_url', 'room.novelty'], 'known opaque fields (tools) are not unexpected')
  t.equal(linkless.problem, 'a participant has no link')

  const userless = diagnose('createUser', ANSWER_SHAPES.createUser, { role: 'plus', active: true }, 'x')
  t.same(userless.missing, ['id'])
  t.same(userless.unexpected, [])
  t.same(diagnose('listRooms', ANSWER_SHAPES.listRooms, { rooms: [], has_more: false }, 'x').missing, [], 'nothing is missing from an empty list')
  t.same(diagnose('getRoom', ANSWER_SHAPES.getRoom, 'oops', 'x'), { call: 'getRoom', problem: 'x', keys: [], missing: [], unexpected: [] })
})

t.test('the service: links under an unknown name → 502, the room is deleted, one error line with the key paths and no values', async t => {
  const emulator = await startEmulator(t, { roomLinkField: 'join_url' })
  const { app, services, logs } = await setup(t, { emulator })
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  t.equal(res.statusCode, 502)
  t.same(res.json(), { error: 'Kaleyra service error' })
  await services.reaper.idle()
  t.equal(emulator.liveRooms().length, 0, 'the room created without links was deleted')

  const reported = () => logs.records().filter(r => String(r.msg).includes('answer not understood'))
  t.equal(reported().length, 1)
  t.match(reported()[0], {
    level: 50,
    msg: 'Kaleyra createRoom answer not understood: a participant has no link',
    upstreamStatus: 201,
    kaleyraAnswer: { call: 'createRoom', missing: ['participants[].link'], unexpected: ['participants[].join_url'] }
  })
  t.ok((reported()[0].kaleyraAnswer as { keys: string[] }).keys.includes('participants[].join_url'))
  const all = logs.lines.join('\n')
  t.notOk(all.includes('/join/'), 'no link in any log line')
  t.notOk(all.includes(emulator.apiKey))

  t.equal((await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })).statusCode, 502, 'still 502')
  t.equal(reported().length, 1, 'the same shape is reported once')
})

t.test('links under url (the v1 word) are understood', async t => {
  const emulator = await startEmulator(t, { roomLinkField: 'url' })
  const { app } = await setup(t, { emulator })
  t.equal((await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })).statusCode, 201)
})

t.test('every parsed call reports its shape when it fails, and an unreadable 2xx room creation counts as an unknown outcome', async t => {
  const agent = new MockAgent()
  agent.disableNetConnect()
  t.teardown(() => agent.close())
  const origin = agent.get('https://api.example.bandyer.com')
  const seen: string[] = []
  const log = { error: (_details: object, message?: string) => { seen.push(message ?? '') } }
  const client = createKaleyraClient({ baseUrl: 'https://api.example.bandyer.com', apiKey: 'k', timeoutMs: UPSTREAM_TIMEOUT_MS, dispatcher: agent, retries: 0, log })
  origin.intercept({ path: '/v2/rooms', method: 'POST' }).reply(201, '<html>proxy</html>')
  const html = await client.createRoom({ participants: [], recording: 'none' }).catch((e: unknown) => e)
  t.ok(html instanceof KaleyraFormatError && html.ambiguous, 'the room may exist: the reaper will look for it')
  origin.intercept({ path: '/v2/company', method: 'GET' }).reply(200, { company: { default_language: 'it' } })
  const company = await client.getCompany().catch((e: unknown) => e)
  t.same((company as KaleyraFormatError).diagnosis?.missing, ['company.name'])
  origin.intercept({ path: /^\/v2\/sessions/, method: 'GET' }).reply(200, { items: [] })
  t.same((await client.listSessions('r').catch((e: unknown) => e) as KaleyraFormatError).diagnosis?.unexpected, ['items'])
  t.same(seen, [
    'Kaleyra createRoom answer not understood: the answer is not JSON',
    'Kaleyra getCompany answer not understood: the answer does not have the expected shape',
    'Kaleyra listSessions answer not understood: the answer does not have the expected shape'
  ])
  agent.assertNoPendingInterceptors()
})
