import t from 'tap'
import { kaleyraUserIdFor } from '../../src/identity/kaleyra-users.js'
import { eachStore, setup } from '../helpers/app.js'
import { body, doctor, HOUR, isoFromNow, patient } from '../helpers/fixtures.js'

eachStore(t, '20 concurrent PATCHes on one teleconsultation leave exactly one live room, the stored one', async (t, store) => {
  const { app, emulator, stores } = await setup(t, { store })
  const id: string = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: isoFromNow(HOUR) }) })).json().roomId
  const answers = await Promise.all(Array.from({ length: 20 }, async (_, i) => await app.inject({
    method: 'PATCH',
    url: `/teleconsultation/${id}`,
    payload: { start_date: isoFromNow(2 * HOUR + i * 60_000), duration_in_seconds: 1800 + i * 60 }
  })))
  const statuses = answers.map(a => a.statusCode)
  t.ok(statuses.every(s => s === 204 || s === 409), `only 204s or 409s (${statuses.join(',')})`)
  await app.reaper.idle()
  const record = await stores.teleconsultations.get(id)
  const live = emulator.liveRooms()
  t.equal(live.length, 1, 'exactly one live room')
  t.equal(live[0].roomId, record?.bandyerRoomId, 'it is the stored one')
  t.same(record?.pendingRoomDeletions, [])
})

eachStore(t, 'concurrent PATCH and DELETE never leave a room behind', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const id: string = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: isoFromNow(HOUR) }) })).json().roomId
  const answers = await Promise.all([
    app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { duration_in_seconds: 900 } }),
    app.inject({ method: 'DELETE', url: `/teleconsultation/${id}` }),
    app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { duration_in_seconds: 1200 } })
  ])
  t.ok(answers.every(a => [204, 404].includes(a.statusCode)), answers.map(a => a.statusCode).join(','))
  await app.reaper.idle()
  t.equal(emulator.liveRooms().length, 0)
})

eachStore(t, '10 concurrent POSTs sharing a new participant create one Kaleyra user for them', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const answers = await Promise.all(Array.from({ length: 10 }, async (_, i) => await app.inject({
    method: 'POST',
    url: '/teleconsultation',
    payload: body({ participants: [doctor('shared-doctor'), patient(`patient-${i}`)] })
  })))
  t.ok(answers.every(a => a.statusCode === 201))
  const shared = emulator.users().filter(u => u.userId === kaleyraUserIdFor('shared-doctor'))
  t.equal(shared.length, 1)
  const creations = emulator.requests().filter(r => r.method === 'POST' && r.path === '/v2/users')
  t.equal(creations.length, 11, 'one creation per distinct participant')
  t.equal(emulator.liveRooms().length, 10)
})

eachStore(t, 'two app instances sharing Kaleyra and a store adopt each other\'s users', async (t, store) => {
  const first = await setup(t, { store })
  // Memory: the same store object; CRUD: each instance its own store over one CRUD Service.
  const second = await setup(t, { store, emulator: first.emulator, ...(first.crud !== undefined ? { crud: first.crud } : { stores: first.stores }) })
  const answers = await Promise.all([first.app, second.app].flatMap(app => Array.from({ length: 3 }, async (_, i) => await app.inject({
    method: 'POST',
    url: '/teleconsultation',
    payload: body({ participants: [doctor('everywhere'), patient(`p-${i}`)] })
  }))))
  t.ok(answers.every(a => a.statusCode === 201))
  t.equal(first.emulator.users().filter(u => u.userId === kaleyraUserIdFor('everywhere')).length, 1, 'a 409 from Kaleyra is adopted, not an error')
})
