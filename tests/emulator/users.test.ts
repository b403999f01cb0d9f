import t from 'tap'
import { createRoom, startHarness } from './fixtures/harness.js'

t.test('POST /v2/users', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())

  const created = await h.obj('POST', '/v2/users', { body: { id: 'Dr.House_01-x', role: 'plus' } })
  t.equal(created.status, 201)
  t.equal(created.body.id, 'Dr.House_01-x', 'the custom id is the "id" of the request (User Management guide)')
  t.equal(created.body.role, 'plus')
  t.equal(created.body.active, true)
  t.equal(created.body.allow_camera, true)
  t.ok(!Number.isNaN(Date.parse(created.body.creation_date)), 'creation_date is a date')

  const generated = await h.obj('POST', '/v2/users', { body: { role: 'basic' } })
  t.equal(generated.status, 201)
  t.match(generated.body.id, /^user_[0-9a-f]+$/, 'an id is generated when absent')

  const misnamed = await h.obj('POST', '/v2/users', { body: { user_id: 'mine', role: 'basic', colour: 'red' } })
  t.equal(misnamed.status, 201, 'unknown fields are ignored, as Kaleyra does for this call')
  t.match(misnamed.body.id, /^user_[0-9a-f]+$/, 'so a misnamed id field gets a generated id')
  t.equal(h.emu.user('mine'), undefined)

  const duplicate = await h.obj('POST', '/v2/users', { body: { id: 'Dr.House_01-x', role: 'basic' } })
  t.equal(duplicate.status, 409)
  t.equal(duplicate.body.error, 'user_already_exists')
  t.same(h.emu.users(), [{ userId: 'Dr.House_01-x', role: 'plus' }, { userId: generated.body.id, role: 'basic' }, { userId: misnamed.body.id, role: 'basic' }],
    'the duplicate did not change the first user')

  for (const bad of ['with space', 'slash/id', 'é', '', 'a'.repeat(129), 'semi;colon', 12]) {
    const res = await h.obj('POST', '/v2/users', { body: { id: bad, role: 'basic' } })
    t.equal(res.status, 422, `user id ${JSON.stringify(bad)} is refused`)
    t.equal(res.body.error, 'validation_error')
  }
  const longest = await h.obj('POST', '/v2/users', { body: { id: 'a'.repeat(128), role: 'basic' } })
  t.equal(longest.status, 201, '128 characters are allowed')

  for (const body of [{ id: 'r1' }, { id: 'r2', role: 'admin' }, { id: 'r3', role: 'plus', allow_camera: 'yes' }, ['r4']]) {
    const res = await h.obj('POST', '/v2/users', { body })
    t.equal(res.status, 422, `refused: ${JSON.stringify(body)}`)
    t.equal(res.body.error, 'validation_error')
  }
  t.equal(h.emu.users().length, 4)
})

t.test('inactive users: deactivated by the update call or the control, refused as duplicates, refused in rooms', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  await createRoom(h, [['doc', 'plus'], ['pat', 'basic']])

  const off = await h.obj('PUT', '/v2/users/pat', { body: { active: false } })
  t.equal(off.status, 200)
  t.match(off.body, { id: 'pat', active: false })
  t.same(h.emu.user('pat'), { userId: 'pat', role: 'basic', active: false })
  t.match((await h.obj('GET', '/v2/users/pat')).body, { id: 'pat', active: false }, 'GET says so')

  const again = await h.obj('POST', '/v2/users', { body: { id: 'pat', role: 'basic' } })
  t.equal(again.status, 422, '"You can\'t create a new user with the same id of an inactive user"')
  t.equal(again.body.error, 'validation_error')
  t.match(again.body.message, /already exists and is inactive/)

  const room = await h.obj('POST', '/v2/rooms', { body: { participants: [{ user_id: 'doc', is_admin: true }, { user_id: 'pat', is_admin: false }] } })
  t.equal(room.status, 422)
  t.equal(room.body.error, 'user_inactive')

  t.equal((await h.obj('PUT', '/v2/users/pat', { body: { active: true } })).body.active, true)
  t.equal((await h.obj('POST', '/v2/rooms', { body: { participants: [{ user_id: 'doc', is_admin: true }, { user_id: 'pat', is_admin: false }] } })).status, 201)

  const control = await h.obj('POST', '/_emulator/users/doc/deactivate', { apiKey: null })
  t.same(control.body, { id: 'doc', active: false })
  t.equal(h.emu.user('doc')?.active, false)
  t.equal((await h.obj('POST', '/_emulator/users/ghost/deactivate')).status, 404)
  t.match((await h.obj('GET', '/_emulator/state')).body.users, [{ userId: 'doc', role: 'plus', active: false }, { userId: 'pat', role: 'basic' }])
  t.equal(h.emu.deactivateUser('pat'), true)
  t.equal(h.emu.deactivateUser('ghost'), false)
})

t.test('omitCreatedUserId: the creation answer has no id (the user is created all the same)', async t => {
  const h = await startHarness({ omitCreatedUserId: true })
  t.teardown(() => h.close())
  const created = await h.obj('POST', '/v2/users', { body: { id: 'doc', role: 'plus' } })
  t.equal(created.status, 201)
  t.notOk('id' in created.body)
  t.match(created.body, { role: 'plus', active: true })
  t.match((await h.obj('GET', '/v2/users/doc')).body, { id: 'doc' }, 'reading it still names it')
})

t.test('GET /v2/users/:id and the user list', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  for (let i = 0; i < 12; i++) await h.call('POST', '/v2/users', { body: { id: `u${i}`, role: i === 0 ? 'plus' : 'basic' } })

  const one = await h.obj('GET', '/v2/users/u0')
  t.equal(one.status, 200)
  t.match(one.body, { id: 'u0', role: 'plus', active: true, allow_camera: true })

  const missing = await h.obj('GET', '/v2/users/nobody')
  t.equal(missing.status, 404)
  t.equal(missing.body.error, 'not_found')

  const first = await h.obj('GET', '/v2/users')
  t.equal(first.body.users.length, 10, 'default limit is 10')
  t.match(first.body, { offset: 0, limit: 10, count: 10, has_more: true })
  t.same(first.body.users[0], { id: 'u0', role: 'plus', active: true }, 'the v2 list names users by id')

  const last = await h.obj('GET', '/v2/users', { query: { offset: 10, limit: 10 } })
  t.same(last.body.users.map((u: { id: string }) => u.id), ['u10', 'u11'])
  t.match(last.body, { offset: 10, limit: 10, count: 2, has_more: false })

  const tooMany = await h.obj('GET', '/v2/users', { query: { limit: 101 } })
  t.equal(tooMany.status, 422)
})

t.test('PUT /v2/users/:id changes the role, validates like creation, 404 for an unknown user', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  await h.call('POST', '/v2/users', { body: { id: 'pat', role: 'basic' } })

  const upgraded = await h.obj('PUT', '/v2/users/pat', { body: { role: 'plus' } })
  t.equal(upgraded.status, 200)
  t.match(upgraded.body, { id: 'pat', role: 'plus' })
  t.same(h.emu.users(), [{ userId: 'pat', role: 'plus' }])

  for (const body of [{ role: 'admin' }, { role: 'basic', colour: 'red' }, { role: 'basic', allow_camera: 'yes' }, { active: 'no' }]) {
    const res = await h.obj('PUT', '/v2/users/pat', { body })
    t.equal(res.status, 422, `refused: ${JSON.stringify(body)}`)
  }
  t.same(h.emu.users(), [{ userId: 'pat', role: 'plus' }], 'nothing changed by a refused update')
  t.equal((await h.obj('PUT', '/v2/users/nobody', { body: { role: 'plus' } })).status, 404)
})
