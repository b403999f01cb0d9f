// POST, PATCH (room replaced) and DELETE one at a time, with `latencyMs` injected by the emulator
// on every Kaleyra call, against their ideal critical paths: the same Kaleyra calls made straight
// to the same emulator, as concurrent as their dependencies allow.
import { randomUUID } from 'node:crypto'
import { createKaleyraClient } from '../../dist/kaleyra/client.js'
import { call, callsBetween, expectStatus, kaleyraCalls, timed } from './http.mjs'
import { createAll, doctorHeaders, iso, teleconsultation } from './fixtures.mjs'
import { startService } from './processes.mjs'
import { median } from './stats.mjs'

const TOOLS = Object.fromEntries(['chat', 'screen_sharing', 'file_upload', 'whiteboard', 'snapshot', 'live_edit', 'live_pointer', 'present_to_everyone'].map(t => [t, true]))
const PARTICIPANTS = 10

/**
 * The yardstick's Kaleyra calls: the service's own Kaleyra client (compiled, src/kaleyra/client.ts),
 * so the wire format is the service's, straight to the emulator; faults through its control routes.
 */
function kaleyraDirect (emulator) {
  const client = createKaleyraClient({ baseUrl: emulator.url, apiKey: emulator.apiKey, timeoutMs: 30_000 })
  return {
    async createUser (userId, role) {
      const { created } = await client.createUser(userId, role)
      if (!created) throw new Error(`Kaleyra user ${userId} existed already`)
    },
    async createRoom (users) {
      const participants = users.map(u => ({ user_id: u.userId, is_admin: u.role === 'plus', tools: TOOLS }))
      return (await client.createRoom({ participants, recording: 'none', live: true, description: `tcs:${randomUUID()}` })).roomId
    },
    async deleteRoom (roomId) {
      if (await client.deleteRoom(roomId) !== 'deleted') throw new Error(`Kaleyra room ${roomId} was not there to delete`)
    },
    async latency (ms) {
      await expectStatus(201, 'POST', `${emulator.url}/_emulator/faults`, { body: { kind: 'latency', ms } })
    },
    async clearFaults () {
      await call('DELETE', `${emulator.url}/_emulator/faults`)
    },
    close: () => client.close()
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
    await Promise.all([service.stop(), kaleyra.close()])
  }
}
