// A room whose creation answer was lost is found by its description marker however Kaleyra
// orders its room list, and whether or not the list takes a creation-time filter.
import t from 'tap'
import type { KaleyraEmulator } from '../../src/emulator/index.js'
import { FAST_REAPER, setup, startEmulator, type Tap } from '../helpers/app.js'
import { body } from '../helpers/fixtures.js'
import { waitFor } from '../helpers/wait.js'

/** A company with a history longer than the first pages of any listing. */
const PRE_EXISTING = 1_200

const listings = (emulator: KaleyraEmulator) => emulator.requests().filter(r => r.method === 'GET' && r.path === '/v2/rooms')

/** Creates a teleconsultation whose room Kaleyra creates but whose answer is lost (502 after processing). */
async function loseRoomCreation (t: Tap, emulator: KaleyraEmulator, reaper = FAST_REAPER) {
  const ctx = await setup(t, { emulator, overrides: { reaper } })
  emulator.faults.add({ method: 'POST', path: '/v2/rooms', kind: 'status', status: 502, phase: 'after', times: 1 })
  const res = await ctx.app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  t.equal(res.statusCode, 502)
  t.equal(emulator.liveRooms().length, PRE_EXISTING + 1, 'Kaleyra did create the room')
  return ctx
}

for (const roomFromFilter of ['ignored', 'refused'] as const) {
  t.test(`listed oldest first, the from filter ${roomFromFilter}: the lost room is found after ${PRE_EXISTING} older rooms and deleted`, async t => {
    const emulator = await startEmulator(t, { roomOrder: 'oldest-first', roomFromFilter })
    const seeded = new Set(emulator.addRooms(PRE_EXISTING))
    const { services } = await loseRoomCreation(t, emulator)
    await waitFor('the lost room to be deleted', () => emulator.liveRooms().length === PRE_EXISTING)
    t.ok(emulator.liveRooms().every(room => seeded.has(room.roomId)), 'only the lost room was deleted')
    await services.reaper.idle()

    const pages = listings(emulator)
    t.ok(pages.length >= PRE_EXISTING / 100 + 1, `paged to the end of the list (${pages.length} pages)`)
    t.ok(pages.every(p => p.query.limit === '100'))
    if (roomFromFilter === 'refused') {
      t.equal(pages[0].status, 400, 'from is tried first')
      t.ok(pages[0].query.from !== undefined)
      t.ok(pages.slice(1).every(p => p.query.from === undefined && p.status === 200), 'then the list is paged without it')
    } else {
      t.ok(pages.every(p => p.status === 200))
    }
  })
}

t.test('a listing that takes the from filter needs one page, whatever the order', async t => {
  const emulator = await startEmulator(t, { roomOrder: 'oldest-first', roomFromFilter: 'supported' })
  emulator.addRooms(PRE_EXISTING)
  await loseRoomCreation(t, emulator)
  await waitFor('the lost room to be deleted', () => emulator.liveRooms().length === PRE_EXISTING)
  const pages = listings(emulator)
  t.equal(pages.length, 1)
  const from = Date.parse(pages[0].query.from)
  t.ok(from < Date.now() && from > Date.now() - 60 * 60_000, 'from: shortly before the creation was attempted')
})

t.test('a search that runs out of budget says so, and looks again later', async t => {
  const emulator = await startEmulator(t, { roomOrder: 'oldest-first', roomFromFilter: 'ignored' })
  emulator.addRooms(PRE_EXISTING)
  const reaper = { ...FAST_REAPER, reconcileMaxPages: 3, reconcileDelaysMs: [50, 100] }
  const { services, logs } = await loseRoomCreation(t, emulator, reaper)
  const exhausted = () => logs.records().filter(r => String(r.msg).includes('page or time budget exhausted'))
  await waitFor('both looks to give up', () => exhausted().length === 2)
  await services.reaper.idle()
  t.match(exhausted()[0], { level: 40, pages: 3, maxPages: 3 }, 'a warning naming the pages read')
  t.equal(listings(emulator).length, 6, 'two looks of three pages each')
  t.equal(emulator.liveRooms().length, PRE_EXISTING + 1, 'beyond the budget the room is not found')
})
