// ROOM_CLOSE_AFTER_END_MS: the scheduled slot is enforced by deleting the room after the end.
import t from 'tap'
import { eachStore, setup } from '../helpers/app.js'
import { as, body } from '../helpers/fixtures.js'

const CLOSE = { ROOM_CLOSE_AFTER_END_MS: String(30 * 60_000) }

eachStore(
  t,
  'a teleconsultation whose end passed long enough ago has no live room, with two replicas (one deletion)',
  async (t, store) => {
    const first = await setup(t, { store, env: CLOSE, overrides: { closer: { intervalMs: 0 } } })
    const second = await setup(t, {
      emulator: first.emulator,
      stores: first.stores,
      env: CLOSE,
      overrides: { closer: { intervalMs: 0 } }
    })
    const past = await first.app.inject({
      method: 'POST',
      url: '/teleconsultation',
      payload: body({ start: '2020-01-01T10:00:00.000Z', end: '2020-01-01T10:30:00.000Z' })
    })
    const recent = new Date(Date.now() - 10 * 60_000).toISOString()
    const current = await first.app.inject({
      method: 'POST',
      url: '/teleconsultation',
      payload: body({ start: new Date(Date.now() - 60 * 60_000).toISOString(), end: recent })
    })
    const id: string = past.json().roomId
    const roomId = (await first.stores.teleconsultations.get(id))?.bandyerRoomId
    t.equal(first.emulator.liveRooms().length, 2)

    const closed = await Promise.all([first.services.closer?.tick(), second.services.closer?.tick()])
    await Promise.all([first.services.reaper.idle(), second.services.reaper.idle()])
    t.equal((closed[0] ?? 0) + (closed[1] ?? 0), 1, 'one replica closed it')
    const deletions = first.emulator.requests().filter(r => r.method === 'DELETE' && r.path === `/v2/rooms/${roomId}`)
    t.equal(deletions.length, 1, 'exactly one deletion')
    t.same(first.emulator.liveRooms().map(r => r.roomId), [(await first.stores.teleconsultations.get(current.json().roomId))?.bandyerRoomId], 'the one still within its slot stays')

    const view = await second.app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('patient-1') })
    t.equal(view.statusCode, 200)
    t.equal(view.json().accessLinkURL, null)
    t.equal(view.json().status, 'ended')
    t.same((await first.stores.teleconsultations.get(id))?.pendingRoomDeletions, [], 'nothing left to delete')
    t.equal(await first.services.closer?.tick(), 0, 'a later pass does nothing')
    const metrics = await first.app.inject({ method: 'GET', url: '/-/metrics' })
    const metrics2 = await second.app.inject({ method: 'GET', url: '/-/metrics' })
    t.ok(/teleconsultation_rooms_closed_total 1/.test(metrics.body) !== /teleconsultation_rooms_closed_total 1/.test(metrics2.body), 'counted by the replica that closed it')
  })

t.test('off by default: no closing, the old room keeps handing out links', async t => {
  const ctx = await setup(t)
  t.equal(ctx.services.closer, undefined)
  const res = await ctx.app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: '2020-01-01T10:00:00.000Z', end: '2020-01-01T10:30:00.000Z' }) })
  const view = await ctx.app.inject({ method: 'GET', url: `/teleconsultation/${res.json().roomId as string}`, headers: as('patient-1') })
  t.type(view.json().accessLinkURL, 'string')
  t.notOk('status' in view.json())
})
