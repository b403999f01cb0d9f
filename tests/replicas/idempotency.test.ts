import t from 'tap'
import type { KaleyraEmulator } from '../../src/emulator/index.js'
import type { FakeCrudService } from '../fakes/crud-service.js'
import { startEmulator, UPSTREAM_TIMEOUT_MS } from '../helpers/app.js'
import { startCrud } from '../helpers/crud.js'
import { body, HOUR, isoFromNow } from '../helpers/fixtures.js'
import { httpCall, startCompiledServer } from '../helpers/process.js'

// Two compiled service processes (`npm test` builds first) share one CRUD Service and one Kaleyra
// answering room creations in 150 ms; each round sends one Idempotency-Key to both at once, then
// again to both. Every round must make one room and one record, and every answer carry one id.
const ROUNDS = 10

async function replica (
  t: Parameters<typeof startCrud>[0],
  emulator: KaleyraEmulator,
  crud: FakeCrudService
): Promise<string> {
  const { url } = await startCompiledServer(t, {
    BANDYER_BASE_URL: emulator.url,
    BANDYER_API_SECRET_KEY: emulator.apiKey,
    CRUD_SERVICE_URL: crud.url,
    IDEMPOTENCY_KEYS: 'true',
    WAIT_BEFORE_SERVER_CLOSE_SEC: '0',
    KALEYRA_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
    CRUD_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS)
  })
  return url
}

t.test(`one Idempotency-Key sent to two replicas at once, ${ROUNDS} rounds: one room and one record each`, async t => {
  const emulator = await startEmulator(t)
  const crud = await startCrud(t)
  const replicas = await Promise.all([replica(t, emulator, crud), replica(t, emulator, crud)])
  emulator.faults.add({ method: 'POST', path: '/v2/rooms', kind: 'latency', ms: 150 })

  const statuses = new Set<number>()
  for (let round = 0; round < ROUNDS; round++) {
    const key = `round-${round}`
    const payload = body({ start: isoFromNow(HOUR + round * 60_000) })
    const call = async (url: string) => await httpCall(`${url}/teleconsultation`, { method: 'POST', headers: { 'idempotency-key': key, miauserid: 'backoffice' }, json: payload })
    const first = await Promise.all(replicas.map(call))
    const again = await Promise.all(replicas.map(call))
    for (const a of [...first, ...again]) statuses.add(a.status)
    const ids = new Set(
      [...first, ...again].filter(a => a.status === 201).map(a => JSON.parse(a.body).roomId as string)
    )
    t.equal(ids.size, 1, `round ${round}: one teleconsultation id in every 201`)
    t.ok(again.every(a => a.status === 201), `round ${round}: once done, both replicas answer it`)
  }
  t.ok([...statuses].every(s => s === 201 || s === 409), `statuses: ${[...statuses].join(',')}`)
  t.equal(crud.documents('teleconsultations').length, ROUNDS, 'one record per key')
  t.equal(emulator.liveRooms().length, ROUNDS, 'one room per key')
  t.equal(crud.documents('teleconsultations_idempotency').length, ROUNDS, 'one key document per key')
})
