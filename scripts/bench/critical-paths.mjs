// POST, PATCH (room replaced) and DELETE one at a time, with `latencyMs` injected by the emulator
// on every Kaleyra call, against their ideal critical paths: the same Kaleyra calls made straight
// to the same emulator, as concurrent as their dependencies allow.
import { randomUUID } from 'node:crypto'
import { call, callsBetween, expectStatus, kaleyraCalls, timed } from './http.mjs'
import { createAll, doctorHeaders, iso, teleconsultation } from './fixtures.mjs'
import { startService } from './processes.mjs'
import { median } from './stats.mjs'

const TOOLS = Object.fromEntries(['chat', 'screen_sharing', 'file_upload', 'whiteboard', 'snapshot', 'live_edit', 'live_pointer', 'present_to_everyone'].map(t => [t, true]))
const PARTICIPANTS = 10

/** Direct calls to the emulator, shaped as the service sends them (src/kaleyra/wire.ts, src/teleconsultations/rooms.ts). */
function kaleyraDirect (emulator) {
  const headers = { apikey: emulator.apiKey }
  const url = path => emulator.url + path
  return {
    async createUser (userId, role) {
      await expectStatus(201, 'POST', url('/v2/users'), { headers, body: { user_id: userId, role } })
    },
    async createRoom (users) {
      const body = {
        participants: users.map(u => ({ user_id: u.userId, is_admin: u.role === 'plus', tools: TOOLS })),
        recording: 'none',
        live: true,
        description: `tcs:${randomUUID()}`
      }
      return (await expectStatus(201, 'POST', url('/v2/rooms'), { headers, body })).room_id
    },
    async deleteRoom (roomId) {
      await expectStatus(200, 'DELETE', url(`/v2/rooms/${roomId}`), { headers })
    },
    async latency (ms) {
      await expectStatus(201, 'POST', url('/_emulator/faults'), { body: { kind: 'latency', ms } })
    },
    async clearFaults () {
      await call('DELETE', url('/_emulator/faults'))
    }
  }
}

export async function criticalPaths ({ emulator, settings, progress }) {
  const kaleyra = kaleyraDirect(emulator)
  const service = await startService('service (critical paths)', { kaleyraUrl: emulator.url, apiKey: emulator.apiKey, logLevel: 'info' })
  const n = settings.operations
  let seq = 0
  const fresh = prefix => `${prefix}-${process.pid}-${seq++}`
  const runs = { post: [], postIdeal: [], patch: [], patchIdeal: [], patchCreateOnly: [], delete: [], deleteIdeal: [] }
  const calls = {}
  const count = async (key, measure) => {
    const before = await kaleyraCalls(service.url)
    const ms = await measure()
    calls[key] = callsBetween(before, await kaleyraCalls(service.url))
    return ms
  }

  const postBody = () => teleconsultation({ doctor: fresh('cp-doctor'), patients: Array.from({ length: PARTICIPANTS - 1 }, () => fresh('cp-patient')), started: false })
  async function postIdeal () {
    const users = [{ userId: fresh('cp-ideal-doctor'), role: 'plus' }, ...Array.from({ length: PARTICIPANTS - 1 }, () => ({ userId: fresh('cp-ideal-patient'), role: 'basic' }))]
    const started = performance.now()
    await Promise.all(users.map(u => kaleyra.createUser(u.userId, u.role)))
    await kaleyra.createRoom(users)
    return performance.now() - started
  }

  try {
    for (let rep = 1; rep <= settings.repetitions; rep++) {
      // Setup without latency: teleconsultations (and rooms) to replace and to delete.
      await kaleyra.clearFaults()
      const doctor = fresh('cp-doctor')
      const futureBodies = Array.from({ length: 2 * n }, () => teleconsultation({ doctor, patients: [fresh('cp-patient')], started: false }))
      const ids = await createAll(service.url, futureBodies)
      const toPatch = ids.slice(0, n)
      const toDelete = ids.slice(n)
      const pair = [{ userId: fresh('cp-ideal-doctor'), role: 'plus' }, { userId: fresh('cp-ideal-patient'), role: 'basic' }]
      for (const u of pair) await kaleyra.createUser(u.userId, u.role)
      const idealRooms = []
      for (let i = 0; i < 2 * n; i++) idealRooms.push(await kaleyra.createRoom(pair))

      await kaleyra.latency(settings.latencyMs)
      const times = Object.fromEntries(Object.keys(runs).map(key => [key, []]))
      // One untimed operation of each kind first, so no connection is opened inside a timed one.
      await timed(201, 'POST', `${service.url}/teleconsultation`, { body: postBody() })
      await postIdeal()
      times.post = [await count('post', () => timed(201, 'POST', `${service.url}/teleconsultation`, { body: postBody() }))]
      for (let i = 1; i < n; i++) times.post.push(await timed(201, 'POST', `${service.url}/teleconsultation`, { body: postBody() }))
      for (let i = 0; i < n; i++) times.postIdeal.push(await postIdeal())

      const patch = i => timed(204, 'PATCH', `${service.url}/teleconsultation/${toPatch[i]}`, { body: { start_date: iso(3 * 3_600_000 + i * 60_000), duration_in_seconds: 1800 } })
      times.patch = [await count('patch', () => patch(0))]
      for (let i = 1; i < n; i++) times.patch.push(await patch(i))
      for (let i = 0; i < n; i++) {
        const started = performance.now()
        await kaleyra.createRoom(pair)
        await kaleyra.deleteRoom(idealRooms[i])
        times.patchIdeal.push(performance.now() - started)
      }
      // For scale: what PATCH would cost if the old room were deleted after answering.
      for (let i = 0; i < n; i++) {
        const started = performance.now()
        await kaleyra.createRoom(pair)
        times.patchCreateOnly.push(performance.now() - started)
      }

      const remove = i => timed(204, 'DELETE', `${service.url}/teleconsultation/${toDelete[i]}`, { headers: doctorHeaders(doctor) })
      times.delete = [await count('delete', () => remove(0))]
      for (let i = 1; i < n; i++) times.delete.push(await remove(i))
      for (let i = 0; i < n; i++) {
        const started = performance.now()
        await kaleyra.deleteRoom(idealRooms[n + i])
        times.deleteIdeal.push(performance.now() - started)
      }
      await kaleyra.clearFaults()

      for (const [key, values] of Object.entries(times)) runs[key].push(median(values))
      progress(`critical paths ${rep}/${settings.repetitions}: POST ${runs.post.at(-1).toFixed(1)} ms (ideal ${runs.postIdeal.at(-1).toFixed(1)}), ` +
        `PATCH ${runs.patch.at(-1).toFixed(1)} (${runs.patchIdeal.at(-1).toFixed(1)}), DELETE ${runs.delete.at(-1).toFixed(1)} (${runs.deleteIdeal.at(-1).toFixed(1)})`)
    }
    return { runs, calls, participants: PARTICIPANTS }
  } finally {
    await kaleyra.clearFaults()
    await service.stop()
  }
}
