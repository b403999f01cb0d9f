import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { KaleyraEmulator } from '../../src/emulator/index.js'
import type { FakeCrudService } from '../fakes/crud-service.js'
import { startEmulator, UPSTREAM_TIMEOUT_MS } from '../helpers/app.js'
import { startCrud } from '../helpers/crud.js'
import { body, HOUR, isoFromNow } from '../helpers/fixtures.js'
import { httpCall, startCompiledServer } from '../helpers/process.js'
import { waitFor } from '../helpers/wait.js'

// Two compiled service processes (`npm test` builds first) share one CRUD Service and one Kaleyra
// answering every call in 150 ms: replica A replaces a room while replica B deletes the same
// teleconsultation 25–225 ms later, the window in which an unconditional DELETE orphaned rooms.
const ROUNDS = 50
const AT_ONCE = 10
const KALEYRA_LATENCY_MS = 150

async function replica (
  t: Parameters<typeof startCrud>[0],
  emulator: KaleyraEmulator,
  crud: FakeCrudService
): Promise<string> {
  const { url } = await startCompiledServer(t, {
    BANDYER_BASE_URL: emulator.url,
    BANDYER_API_SECRET_KEY: emulator.apiKey,
    CRUD_SERVICE_URL: crud.url,
    WAIT_BEFORE_SERVER_CLOSE_SEC: '0',
    KALEYRA_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
    CRUD_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS)
  })
  return url
}

/** Live Kaleyra rooms no live, readable record points to. */
function orphans (emulator: KaleyraEmulator, crud: FakeCrudService): string[] {
  const pointed = new Set(crud.documents('teleconsultations')
    .filter(d => ['PUBLIC', 'DRAFT'].includes(d.__STATE__ as string) && d.teleconsultationState !== 'DELETING')
    .map(d => d.bandyerRoomId))
  return emulator.liveRooms().map(r => r.roomId).filter(id => !pointed.has(id))
}

t.test(`PATCH replacing the room on one replica, DELETE on the other 25–225 ms later, ${ROUNDS} rounds: no orphan room`, async t => {
  const emulator = await startEmulator(t)
  const crud = await startCrud(t)
  const [a, b] = await Promise.all([replica(t, emulator, crud), replica(t, emulator, crud)])
  emulator.faults.add({ kind: 'latency', ms: KALEYRA_LATENCY_MS })

  const outcomes: Array<{ patch: number, del: number }> = []
  for (let first = 0; first < ROUNDS; first += AT_ONCE) {
    await Promise.all(Array.from({ length: AT_ONCE }, async (_, k) => {
      const round = first + k
      const created = await httpCall(`${a}/teleconsultation`, { method: 'POST', json: body({ start: isoFromNow(HOUR) }) })
      t.equal(created.status, 201)
      const id = JSON.parse(created.body).roomId as string
      const delay = 25 + Math.round(round * 200 / (ROUNDS - 1))
      const [patch, del] = await Promise.all([
        httpCall(`${a}/teleconsultation/${id}`, { method: 'PATCH', json: { duration_in_seconds: 900 + round } }),
        sleep(delay).then(async () => await httpCall(`${b}/teleconsultation/${id}`, { method: 'DELETE' }))
      ])
      outcomes.push({ patch: patch.status, del: del.status })
    }))
  }
  t.ok(outcomes.every(o => [204, 404].includes(o.patch)), `PATCH answers: ${[...new Set(outcomes.map(o => o.patch))].join(',')}`)
  t.ok(outcomes.every(o => o.del === 204), `DELETE answers: ${[...new Set(outcomes.map(o => o.del))].join(',')}`)
  // Compensations (a PATCH that lost the race deletes its new room) run right after the answer.
  emulator.faults.clear()
  await waitFor('every room to be deleted or pointed to', () => orphans(emulator, crud).length === 0, 20_000).catch(() => {})
  t.same(orphans(emulator, crud), [], '0 orphan rooms')
  t.equal(crud.documents('teleconsultations').filter(d => d.__STATE__ === 'TRASH').length, ROUNDS, 'every teleconsultation trashed')
  t.equal(emulator.liveRooms().length, 0)
})
