import t from 'tap'
import { startHarness } from './fixtures/harness.js'

t.test('POST /v2/users', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())

  const created = await h.obj('POST', '/v2/users', { body: { user_id: 'Dr.House_01-x', role: 'plus' } })
  t.equal(created.status, 201)
  t.equal(created.body.user_id, 'Dr.House_01-x')
  t.equal(created.body.role, 'plus')
  t.equal(created.body.allow_camera, true)
  t.ok(!Number.isNaN(Date.parse(created.body.creation_date)), 'creation_date is a date')

  const generated = await h.obj('POST', '/v2/users', { body: { role: 'basic' } })
  t.equal(generated.status, 201)
  t.match(generated.body.user_id, /^user_[0-9a-f]+$/, 'an id is generated when absent')

  const duplicate = await h.obj('POST', '/v2/users', { body: { user_id: 'Dr.House_01-x', role: 'basic' } })
  t.equal(duplicate.status, 409)
  t.equal(duplicate.body.error, 'user_already_exists')
  t.same(h.emu.users(), [{ userId: 'Dr.House_01-x', role: 'plus' }, { userId: generated.body.user_id, role: 'basic' }],
    'the duplicate did not change the first user')

  for (const bad of ['with space', 'slash/id', 'é', '', 'a'.repeat(129), 'semi;colon']) {
    const res = await h.obj('POST', '/v2/users', { body: { user_id: bad, role: 'basic' } })
    t.equal(res.status, 422, `user id ${JSON.stringify(bad)} is refused`)
    t.equal(res.body.error, 'validation_error')
  }
  const longest = await h.obj('POST', '/v2/users', { body: { user_id: 'a'.repeat(128), role: 'basic' } })
  t.equal(longest.status, 201, '128 characters are allowed')

  for (const body of [{ user_id: 'r1' }, { user_id: 'r2', role: 'admin' }, { user_id: 'r3', role: 'plus', colour: 'red' }, { user_id: 12, role: 'plus' }]) {
    const res = await h.obj('POST', '/v2/users', { body })
    t.equal(res.status, 422, `refused: ${JSON.stringify(body)}`)
    t.equal(res.body.error, 'validation_error')
  }
  t.equal(h.emu.users().length, 3)
})

t.test('GET /v2/users/:id and the user list', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  for (let i = 0; i < 12; i++) await h.call('POST', '/v2/users', { body: { user_id: `u${i}`, role: i === 0 ? 'plus' : 'basic' } })

  const one = await h.obj('GET', '/v2/users/u0')
  t.equal(one.status, 200)
  t.match(one.body, { user_id: 'u0', role: 'plus', allow_camera: true })

  const missing = await h.obj('GET', '/v2/users/nobody')
  t.equal(missing.status, 404)
  t.equal(missing.body.error, 'not_found')

  const first = await h.obj('GET', '/v2/users')
  t.equal(first.body.users.length, 10, 'default limit is 10')
  t.match(first.body, { offset: 0, limit: 10, count: 10, has_more: true })
  t.same(first.body.users[0], { user_id: 'u0', role: 'plus' })

  const last = await h.obj('GET', '/v2/users', { query: { offset: 10, limit: 10 } })
  t.same(last.body.users.map((u: { user_id: string }) => u.user_id), ['u10', 'u11'])
  t.match(last.body, { offset: 10, limit: 10, count: 2, has_more: false })

  const tooMany = await h.obj('GET', '/v2/users', { query: { limit: 101 } })
  t.equal(tooMany.status, 422)
})

t.test('PUT /v2/users/:id changes the role, validates like creation, 404 for an unknown user', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  await h.call('POST', '/v2/users', { body: { user_id: 'pat', role: 'basic' } })

  const upgraded = await h.obj('PUT', '/v2/users/pat', { body: { role: 'plus' } })
  t.equal(upgraded.status, 200)
  t.match(upgraded.body, { user_id: 'pat', role: 'plus' })
  t.same(h.emu.users(), [{ userId: 'pat', role: 'plus' }])

  for (const body of [{ role: 'admin' }, { role: 'basic', colour: 'red' }, { role: 'basic', allow_camera: 'yes' }]) {
    const res = await h.obj('PUT', '/v2/users/pat', { body })
    t.equal(res.status, 422, `refused: ${JSON.stringify(body)}`)
  }
  t.same(h.emu.users(), [{ userId: 'pat', role: 'plus' }], 'nothing changed by a refused update')
  t.equal((await h.obj('PUT', '/v2/users/nobody', { body: { role: 'plus' } })).status, 404)
})
