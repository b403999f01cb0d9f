import t from 'tap'
import { TOOL_NAMES } from '../../src/kaleyra/model.js'
import { createRoom, startHarness, type Harness } from './fixtures/harness.js'

async function users (h: Harness, list: Array<[string, 'basic' | 'plus']>): Promise<void> {
  for (const [userId, role] of list) {
    const res = await h.call('POST', '/v2/users', { body: { id: userId, role } })
    if (res.status !== 201) throw new Error(res.text)
  }
}

const allTools = Object.fromEntries(TOOL_NAMES.map(n => [n, true]))

t.test('POST /v2/rooms creates a room with one link per participant', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  await users(h, [['doc', 'plus'], ['pat', 'basic']])
  const tools = { ...allTools, chat: false }
  const res = await h.obj('POST', '/v2/rooms', {
    body: {
      participants: [{ user_id: 'doc', is_admin: true, tools }, { user_id: 'pat', is_admin: false }],
      duration: 60,
      recording: 'manual',
      offline_transcription: true,
      live: true,
      call_type: 'audio_video',
      description: 'visit 42'
    }
  })
  t.equal(res.status, 201)
  const room = res.body
  t.match(room.room_id, /^room_[0-9a-f]+$/)
  t.match(room, { recording: 'manual', duration: 60, live: true, call_type: 'audio_video', status: 'NOT_RUNNING', disabled: false })
  t.notOk('description' in room, 'the creation answer has no description')
  t.ok(!Number.isNaN(Date.parse(room.creation_date)))
  t.equal(room.participants.length, 2)
  t.match(room.participants[0], { user_id: 'doc', is_admin: true, tools })
  t.same(room.participants[1].tools, allTools, 'no tools field = every tool enabled')
  for (const p of room.participants) t.match(p.link, new RegExp(`^${h.emu.url}/join/[A-Za-z0-9_-]+$`))
  t.not(room.participants[0].link, room.participants[1].link, 'links differ per participant')

  const again = await createRoom(h)
  t.not(again.room_id, room.room_id)
  t.not(again.participants[0].link, room.participants[0].link, 'links differ per room')

  const live = h.emu.liveRooms()
  t.equal(live.length, 2)
  t.match(live[0], { roomId: room.room_id, recording: 'manual', offlineTranscription: true, duration: 60, live: true, description: 'visit 42' })
  t.match(live[0].participants[0], { userId: 'doc', isAdmin: true, link: room.participants[0].link })

  const partial = await h.obj('POST', '/v2/rooms', {
    body: { participants: [{ user_id: 'doc', is_admin: true, tools: { chat: true } }, { user_id: 'pat', is_admin: false, tools: {} }], recording: 'none' }
  })
  t.equal(partial.status, 201)
  t.equal(partial.body.participants[0].tools.chat, true)
  t.equal(partial.body.participants[0].tools.whiteboard, false, 'a tools object enables only what it names')
  t.notOk(Object.values(partial.body.participants[1].tools).some(Boolean), 'an empty tools object disables everything')
  t.notOk('duration' in partial.body, 'no duration = unlimited, field omitted')
  t.equal(partial.body.call_type, 'audio_video', 'default call type')
})

t.test('room rules', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const ids = Array.from({ length: 26 }, (_, i) => `u${i}`)
  await users(h, [['boss', 'plus'], ...ids.map((id): [string, 'basic'] => [id, 'basic'])])
  const p = (id: string, extra: Record<string, unknown> = {}) => ({ user_id: id, is_admin: false, ...extra })
  const base = { recording: 'none' }

  const cases: Array<[string, unknown, number, string]> = [
    ['one participant', { ...base, participants: [p('boss')] }, 422, 'validation_error'],
    ['26 participants', { ...base, participants: [p('boss'), ...ids.slice(0, 25).map(id => p(id))] }, 422, 'validation_error'],
    ['no plus user', { ...base, participants: [p('u0'), p('u1')] }, 422, 'validation_error'],
    ['unknown user', { ...base, participants: [p('boss'), p('ghost')] }, 422, 'user_not_found'],
    ['duplicate user', { ...base, participants: [p('boss'), p('u0'), p('u0')] }, 422, 'validation_error'],
    ['bad user id', { ...base, participants: [p('boss'), p('bad id')] }, 422, 'validation_error'],
    ['duration 59', { ...base, participants: [p('boss'), p('u0')], duration: 59 }, 422, 'validation_error'],
    ['duration 86401', { ...base, participants: [p('boss'), p('u0')], duration: 86401 }, 422, 'validation_error'],
    ['duration not an integer', { ...base, participants: [p('boss'), p('u0')], duration: 90.5 }, 422, 'validation_error'],
    ['duration as a string', { ...base, participants: [p('boss'), p('u0')], duration: '60' }, 422, 'validation_error'],
    ['bad recording', { participants: [p('boss'), p('u0')], recording: 'always' }, 422, 'validation_error'],
    ['transcription without recording', { ...base, participants: [p('boss'), p('u0')], offline_transcription: true }, 422, 'validation_error'],
    ['unknown tool', { ...base, participants: [p('boss', { tools: { teleport: true } }), p('u0')] }, 422, 'validation_error'],
    ['tool not boolean', { ...base, participants: [p('boss', { tools: { chat: 'yes' } }), p('u0')] }, 422, 'validation_error'],
    ['is_admin not boolean', { ...base, participants: [p('boss', { is_admin: 'true' }), p('u0')] }, 422, 'validation_error'],
    ['unknown field', { ...base, participants: [p('boss'), p('u0')], ring: true }, 422, 'validation_error'],
    ['bad call type', { ...base, participants: [p('boss'), p('u0')], call_type: 'hologram' }, 422, 'validation_error'],
    ['participants not an array', { ...base, participants: 'boss,u0' }, 422, 'validation_error']
  ]
  for (const [name, body, status, error] of cases) {
    const res = await h.obj('POST', '/v2/rooms', { body })
    t.equal(res.status, status, name)
    t.equal(res.body.error, error, `${name}: ${String(res.body.message)}`)
  }
  t.equal(h.emu.liveRooms().length, 0, 'no refused request created a room')

  const bounds: Array<[string, unknown]> = [
    ['2 participants, duration 60', { ...base, participants: [p('boss'), p('u0')], duration: 60 }],
    ['25 participants, duration 86400', { ...base, participants: [p('boss'), ...ids.slice(0, 24).map(id => p(id))], duration: 86400 }],
    ['plus user who is not admin, recording automatic', { participants: [p('u0'), p('boss')], recording: 'automatic', offline_transcription: true }],
    ['recording omitted defaults to none', { participants: [p('u0'), p('boss')] }]
  ]
  for (const [name, body] of bounds) {
    const res = await h.obj('POST', '/v2/rooms', { body })
    t.equal(res.status, 201, name)
  }
  t.equal(h.emu.liveRooms().at(-1)?.recording, 'none')
})

t.test('GET, list, DELETE and immutability', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const first = await createRoom(h, undefined, { description: 'first' })
  const second = await createRoom(h, undefined, { description: 'second', duration: 3600 })

  const got = await h.obj('GET', `/v2/rooms/${second.room_id}`)
  t.equal(got.status, 200)
  t.same(got.body, { ...second, recording_status: 'stopped', duration_used: 0, description: 'second' }, 'GET = creation answer + 3 fields')

  const list = await h.obj('GET', '/v2/rooms')
  t.same(list.body.rooms.map((r: { description: string }) => r.description), ['second', 'first'], 'newest first, with description')
  t.match(list.body, { offset: 0, limit: 10, count: 2, has_more: false })
  const paged = await h.obj('GET', '/v2/rooms', { query: { limit: 1 } })
  t.match(paged.body, { count: 1, has_more: true })
  t.equal(paged.body.rooms[0].room_id, second.room_id)

  for (const method of ['PUT', 'PATCH'] as const) {
    const res = await h.obj(method, `/v2/rooms/${first.room_id}`, { body: { duration: 120 } })
    t.equal(res.status, 405, `${method} is refused`)
    t.equal(res.body.error, 'method_not_allowed')
  }
  t.same((await h.obj('GET', `/v2/rooms/${first.room_id}`)).body.duration, undefined, 'room unchanged')

  const deleted = await h.obj('DELETE', `/v2/rooms/${first.room_id}`)
  t.equal(deleted.status, 200)
  t.same(deleted.body, { room_id: first.room_id })
  t.equal((await h.obj('GET', `/v2/rooms/${first.room_id}`)).status, 404, 'deleted room is gone')
  t.equal((await h.obj('DELETE', `/v2/rooms/${first.room_id}`)).status, 404, 'second delete is 404')
  const unknown = await h.obj('GET', '/v2/rooms/room_unknown')
  t.equal(unknown.status, 404)
  t.equal(unknown.body.error, 'not_found')
  t.same(h.emu.liveRooms().map(r => r.roomId), [second.room_id])
  t.same((await h.obj('GET', '/v2/rooms')).body.rooms.map((r: { room_id: string }) => r.room_id), [second.room_id], 'list skips deleted rooms')
})
