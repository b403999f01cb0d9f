import t from 'tap'
import { eachStore, setup } from '../helpers/app.js'
import { as, body, doctor } from '../helpers/fixtures.js'

eachStore(t, 'deleting removes the Kaleyra room and the record', async (t, store) => {
  const { app, emulator, stores } = await setup(t, { store })
  const id = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })).json().roomId
  t.equal(emulator.liveRooms().length, 1)
  const res = await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}` })
  t.equal(res.statusCode, 204)
  t.equal(emulator.liveRooms().length, 0)
  t.equal(await stores.teleconsultations.get(id), null)
  t.equal((await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('doctor-1') })).statusCode, 404)
  t.equal((await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}` })).statusCode, 404, 'a second delete is 404')
})

eachStore(t, 'deleting a teleconsultation without a room makes no Kaleyra call', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const id = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ participants: [doctor()], number: 2 }) })).json().roomId
  const calls = emulator.requests().length
  t.equal((await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}` })).statusCode, 204)
  t.equal(emulator.requests().length, calls)
})

eachStore(t, 'a room already gone on Kaleyra does not block the deletion', async (t, store) => {
  const { app, emulator, stores } = await setup(t, { store })
  const id = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })).json().roomId
  emulator.reset()
  t.equal((await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}` })).statusCode, 204)
  t.equal(await stores.teleconsultations.get(id), null)
})

eachStore(t, 'Kaleyra down: 502, and the teleconsultation is still there to retry', async (t, store) => {
  const { app, emulator, stores } = await setup(t, { store })
  const id = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })).json().roomId
  emulator.faults.add({ method: 'DELETE', kind: 'status', status: 500 })
  const res = await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}` })
  t.equal(res.statusCode, 502)
  t.same(res.json(), { error: 'Kaleyra service error' })
  t.not(await stores.teleconsultations.get(id), null)
  emulator.faults.clear()
  t.equal((await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}` })).statusCode, 204)
  t.equal(emulator.liveRooms().length, 0)
})
