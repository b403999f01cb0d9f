import { readFile } from 'node:fs/promises'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config/index.js'
import { kaleyraUserIdFor } from '../helpers/kaleyra-ids.js'
import { createCrudStores } from '../../src/store/crud/index.js'
import { StoreDuplicateError } from '../../src/store/errors.js'
import { UpstreamError } from '../../src/upstream/errors.js'
import { FAST_CRUD, setup, startEmulator, type TestContext, UPSTREAM_TIMEOUT_MS } from '../helpers/app.js'
import { DEFAULT_WRITTEN_FIELDS, startCrud, TELECONSULTATION_FIELDS, USER_MAP_FIELDS } from '../helpers/crud.js'
import { as, body, doctor, HOUR, isoFromNow, patient } from '../helpers/fixtures.js'
import { captureLogs } from '../helpers/logs.js'
import { startFakeCrudService, type FakeCrudService } from '../fakes/crud-service.js'

const METADATA = ['_id', '__STATE__', 'creatorId', 'createdAt', 'updaterId', 'updatedAt']

async function crudSetup (t: Parameters<typeof setup>[0]): Promise<TestContext & { crud: FakeCrudService }> {
  const ctx = await setup(t, { store: 'crud' })
  return { ...ctx, crud: ctx.crud as FakeCrudService }
}

function lastRequest (crud: FakeCrudService, method: string, path: string) {
  const found = crud.requests().filter(r => r.method === method && r.path === path).pop()
  if (found === undefined) throw new Error(`no ${method} ${path}`)
  return found
}

t.test('create → patch → get → delete: the documents and requests are the documented ones', async t => {
  const { app, services, crud, emulator } = await crudSetup(t)
  const created = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: isoFromNow(HOUR) }), headers: { miauserid: 'backoffice-1' } })
  t.equal(created.statusCode, 201)
  const id: string = created.json().roomId
  const insert = lastRequest(crud, 'POST', '/teleconsultations/')
  t.equal((insert.body as Record<string, unknown>).__STATE__, 'PUBLIC', 'inserted as PUBLIC, not the DRAFT default')
  const [room] = emulator.liveRooms()
  const doc = crud.document('teleconsultations', id)!
  t.same(Object.keys(doc).sort(), [...DEFAULT_WRITTEN_FIELDS, ...METADATA].sort(), 'exactly the documented fields')
  t.match(doc, {
    __STATE__: 'PUBLIC',
    creatorId: 'backoffice-1',
    version: 1,
    bandyerRoomId: room.roomId,
    participantsNumber: 2,
    teleconsultationState: 'ROOM_CREATED',
    pendingRoomDeletions: [],
    lastWriteId: String
  })
  t.same(doc.participants, [
    { userId: 'doctor-1', userBandyerId: kaleyraUserIdFor('doctor-1'), accessLinkURL: room.participants[0].link, groups: ['doctor'], fullName: 'Dr doctor-1', language: 'it' },
    { userId: 'patient-1', userBandyerId: kaleyraUserIdFor('patient-1'), accessLinkURL: room.participants[1].link, groups: ['patient'], fullName: 'Patient patient-1', language: 'it' }
  ])

  const rows = crud.documents('teleconsultations_users')
  t.same(rows.map(r => r.receivedUserId).sort(), ['doctor-1', 'patient-1'])
  for (const row of rows) {
    t.same(Object.keys(row).sort(), [...USER_MAP_FIELDS, ...METADATA].sort(), 'the map keeps the original fields only')
    t.equal(row.__STATE__, 'PUBLIC')
    t.equal(row.bandyerId, kaleyraUserIdFor(row.receivedUserId as string))
  }
  const lookup = crud.requests().find(r => r.method === 'GET' && r.path === '/teleconsultations_users/')!
  t.match(JSON.parse(lookup.query._q), { receivedUserId: /^(doctor|patient)-1$/ })
  t.equal(lookup.query._st, 'PUBLIC,DRAFT', 'lookups include documents the original service left in DRAFT')

  const patched = await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { start_date: isoFromNow(2 * HOUR), duration_in_seconds: 1800 }, headers: { miauserid: 'backoffice-2' } })
  t.equal(patched.statusCode, 204)
  const patch = crud.requests().find(r => r.method === 'PATCH')!
  t.equal(patch.path, `/teleconsultations/${id}`)
  t.same(JSON.parse(patch.query._q), { version: 1 }, 'conditional on the version read')
  t.equal(patch.query._st, 'PUBLIC,DRAFT')
  t.equal(patch.userId, 'backoffice-2', 'the caller is forwarded for updaterId')
  const [newRoom] = emulator.liveRooms()
  t.match(patch.body, { $set: { version: 2, bandyerRoomId: newRoom.roomId, pendingRoomDeletions: [room.roomId] } })
  await services.reaper.idle()
  const patchedDoc = crud.document('teleconsultations', id)!
  t.same(
    Object.keys(patchedDoc).sort(),
    [...DEFAULT_WRITTEN_FIELDS, ...METADATA].sort(),
    'still exactly the documented fields'
  )
  t.match(
    patchedDoc,
    {
      _id: id,
      __STATE__: 'PUBLIC',
      creatorId: 'backoffice-1',
      createdAt: doc.createdAt,
      updaterId: 'backoffice-2',
      version: 3,
      bandyerRoomId: newRoom.roomId,
      participantsNumber: 2,
      teleconsultationState: 'ROOM_CREATED',
      startDate: (patch.body as { $set: { startDate: string } }).$set.startDate,
      endDate: new Date(
        Date.parse((patch.body as { $set: { startDate: string } }).$set.startDate) + 1_800_000
      ).toISOString(),
      pendingRoomDeletions: []
    },
    "the swap, then forgetting the old room: both recorded as the caller's change"
  )
  t.same(
    (patchedDoc.participants as Array<Record<string, unknown>>).map(p => p.accessLinkURL),
    newRoom.participants.map(p => p.link),
    'the links of the new room'
  )

  const viewed = await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('doctor-1') })
  t.equal(viewed.statusCode, 200)
  t.equal(lastRequest(crud, 'GET', `/teleconsultations/${id}`).query._st, 'PUBLIC,DRAFT')
  t.same(crud.document('teleconsultations', id), patchedDoc, 'reading writes nothing')

  t.equal((await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}`, headers: { miauserid: 'backoffice-3' } })).statusCode, 204)
  const trash = lastRequest(crud, 'POST', `/teleconsultations/${id}/state`)
  t.same(trash.body, { stateTo: 'TRASH' })
  const trashed = crud.document('teleconsultations', id)!
  const { version, lastWriteId, ...trashedRest } = trashed
  const { version: _v, lastWriteId: _w, ...patchedRest } = patchedDoc
  t.same({ ...trashedRest, updatedAt: patchedDoc.updatedAt }, {
    ...patchedRest, teleconsultationState: 'DELETING', pendingRoomDeletions: [patchedDoc.bandyerRoomId], __STATE__: 'TRASH', updaterId: 'backoffice-3'
  }, 'marked DELETING with its room pending, then trashed, not deleted; nothing else changes')
  t.equal(version, (patchedDoc.version as number) + 1, 'the mark is one conditional write')
  t.ok(lastWriteId !== patchedDoc.lastWriteId)
  t.equal(crud.documents('teleconsultations').length, 1)
  t.equal(emulator.liveRooms().length, 0)
  const gone = await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('doctor-1') })
  t.same(gone.json(), { error: `Room with id ${id} not found on CRUD` })
})

t.test('without a room, no room id and no links are written; losing the room unsets its id', async t => {
  const { app, crud } = await crudSetup(t)
  const id: string = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ participants: [doctor()], number: 2, start: isoFromNow(HOUR) }) })).json().roomId
  const doc = crud.document('teleconsultations', id)!
  t.notOk('bandyerRoomId' in doc, 'no null written where the original schema has a string')
  t.notOk('accessLinkURL' in (doc.participants as object[])[0])
  t.equal(doc.teleconsultationState, 'WAITING_FOR_PARTICIPANTS')
  await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { participants: { number: 2, data: [doctor(), patient()] } } })
  t.type(crud.document('teleconsultations', id)?.bandyerRoomId, 'string')
  await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { participants: { number: 3, data: [doctor(), patient()] } } })
  const unsets = crud.requests().filter(r => r.method === 'PATCH' && (r.body as Record<string, unknown>).$unset !== undefined)
  t.same(unsets.map(r => (r.body as Record<string, unknown>).$unset), [{ bandyerRoomId: true }])
  t.notOk('bandyerRoomId' in crud.document('teleconsultations', id)!)
})

t.test('documents written by the original service are read, replaced and trashed', async t => {
  const { app, services, crud, emulator, config } = await crudSetup(t)
  const tools = config.service.privileges.plus.tools
  await services.kaleyra.createUser('legacy_doc', 'plus')
  await services.kaleyra.createUser('legacy_pat', 'basic')
  const legacyRoom = async () => await services.kaleyra.createRoom({
    participants: [{ user_id: 'legacy_doc', is_admin: true, tools }, { user_id: 'legacy_pat', is_admin: false, tools }], recording: 'none', live: true
  })
  crud.seed('teleconsultations_users', [
    { receivedUserId: 'doc-legacy', bandyerId: 'legacy_doc', fullName: 'Dr Legacy', groups: ['doctor'] },
    { receivedUserId: 'pat-legacy', bandyerId: 'legacy_pat', fullName: 'Legacy Patient', groups: ['patient'] }
  ])
  const legacyDoc = (roomId: string, links: Map<string, string>, start: string) => ({
    bandyerRoomId: roomId,
    participantsNumber: 2,
    participants: [
      { userExternalId: 'doc-legacy', bandyerId: 'legacy_doc', accessLinkURL: links.get('legacy_doc'), groups: ['doctor'], fullName: 'Dr Legacy', language: 'it' },
      { userExternalId: 'pat-legacy', bandyerId: 'legacy_pat', accessLinkURL: links.get('legacy_pat'), groups: ['patient'], fullName: 'Legacy Patient' }
    ],
    teleconsultationState: 'available',
    startDate: start,
    endDate: new Date(Date.parse(start) + HOUR).toISOString(),
    creatorId: 'public',
    createdAt: isoFromNow(-24 * HOUR)
  })
  const started = await legacyRoom()
  const startedLinks = new Map(started.links.map(l => [l.userId, l.link]))
  const [startedId] = crud.seed('teleconsultations', [legacyDoc(started.roomId, startedLinks, isoFromNow(-60_000))])

  const view = await app.inject({ method: 'GET', url: `/teleconsultation/${startedId}`, headers: as('pat-legacy') })
  t.equal(view.statusCode, 200, 'a DRAFT document without a version is found')
  t.equal(view.json().bandyerUserId, 'legacy_pat', 'participant keys userExternalId/bandyerId are understood')
  t.ok(view.json().accessLinkURL.startsWith(startedLinks.get('legacy_pat')))
  t.same(view.json().participantsBandyerCall.map((p: { fullName: string }) => p.fullName), ['Dr Legacy', 'Legacy Patient'])
  t.equal((await app.inject({ method: 'GET', url: `/teleconsultation/${startedId}`, headers: as('stranger') })).statusCode, 401)

  const future = await legacyRoom()
  const [futureId] = crud.seed('teleconsultations', [legacyDoc(future.roomId, new Map(future.links.map(l => [l.userId, l.link])), isoFromNow(HOUR))])
  const usersBefore = emulator.users().length
  const patched = await app.inject({ method: 'PATCH', url: `/teleconsultation/${futureId}`, payload: { start_date: isoFromNow(2 * HOUR), duration_in_seconds: 1800 } })
  t.equal(patched.statusCode, 204)
  t.same(JSON.parse(crud.requests().find(r => r.method === 'PATCH')!.query._q), { $or: [{ version: 0 }, { version: { $exists: false } }] }, 'version 0 matches a missing field')
  await services.reaper.idle()
  const doc = crud.document('teleconsultations', futureId)!
  t.equal(doc.__STATE__, 'DRAFT', 'the state is left as the original wrote it')
  t.equal(doc.version, 2, 'now versioned (the swap, then forgetting the old room)')
  t.same((doc.participants as Array<Record<string, unknown>>).map(p => [p.userId, p.userBandyerId, 'userExternalId' in p]), [
    ['doc-legacy', 'legacy_doc', false], ['pat-legacy', 'legacy_pat', false]
  ], 'rewritten with the current keys, keeping the legacy Kaleyra ids')
  t.equal(emulator.users().length, usersBefore, 'no new Kaleyra user: the map rows were used')
  t.notOk(emulator.liveRooms().some(r => r.roomId === future.roomId), 'the legacy room was replaced')
  t.ok(emulator.liveRooms().some(r => r.roomId === doc.bandyerRoomId))

  t.equal((await app.inject({ method: 'DELETE', url: `/teleconsultation/${futureId}` })).statusCode, 204)
  t.equal(crud.document('teleconsultations', futureId)?.__STATE__, 'TRASH', 'DRAFT → TRASH')
  t.notOk(emulator.liveRooms().some(r => r.roomId === doc.bandyerRoomId))
})

t.test('older document shapes read without errors', async t => {
  const { stores, crud } = await crudSetup(t)
  const [objectForm, bare] = crud.seed('teleconsultations', [
    { participants: { number: 3, data: [{ userExternalId: 'a', bandyerId: 'ka', group: 'doctor' }] }, startDate: '2022-02-22T15:30:00Z' },
    { bandyerRoomId: '', participants: 'garbage', createdAt: '2021-12-01T10:00:00.000Z', pendingRoomDeletions: ['r1', 7] }
  ])
  t.same(await stores.teleconsultations.get(objectForm), {
    id: objectForm,
    version: 0,
    bandyerRoomId: null,
    participantsNumber: 3,
    participants: [{ userId: 'a', userBandyerId: 'ka', accessLinkURL: null, groups: ['doctor'] }],
    teleconsultationState: 'WAITING_FOR_PARTICIPANTS',
    startDate: '2022-02-22T15:30:00.000Z',
    endDate: '2022-02-22T15:30:00.000Z',
    pendingRoomDeletions: []
  })
  t.match(await stores.teleconsultations.get(bare), { participants: [], participantsNumber: 0, startDate: '2021-12-01T10:00:00.000Z', pendingRoomDeletions: ['r1'] })
  t.equal(await stores.teleconsultations.get('not-an-object-id'), null)

  crud.seed('teleconsultations_users', [
    { receivedUserId: 'old-doctor', bandyerId: 'legacy_doc', fullName: 'Dr. Old', group: 'doctor' },
    { receivedUserId: 'old-patient', bandyerId: 'legacy_pat', groups: ['patient'] }
  ])
  t.same(await stores.userMap.find('old-doctor'), { receivedUserId: 'old-doctor', bandyerId: 'legacy_doc', fullName: 'Dr. Old', groups: ['doctor'] }, 'a singular `group` reads as groups')
  t.same(await stores.userMap.find('old-patient'), { receivedUserId: 'old-patient', bandyerId: 'legacy_pat', groups: ['patient'] })
})

t.test('pending room deletions are listed from live documents only', async t => {
  const { stores, crud } = await crudSetup(t)
  const base = { participants: [], participantsNumber: 2, startDate: isoFromNow(HOUR), endDate: isoFromNow(2 * HOUR) }
  const [pub, draft] = crud.seed('teleconsultations', [
    { ...base, pendingRoomDeletions: ['room-a'], __STATE__: 'PUBLIC' },
    { ...base, pendingRoomDeletions: ['room-b'], __STATE__: 'DRAFT' },
    { ...base, pendingRoomDeletions: [], __STATE__: 'PUBLIC' },
    { ...base, __STATE__: 'PUBLIC' },
    { ...base, pendingRoomDeletions: ['room-c'], __STATE__: 'TRASH' }
  ])
  const found = await stores.teleconsultations.listWithPendingRoomDeletions(10)
  t.same(found.map(r => r.id).sort(), [pub, draft].sort())
  t.same(JSON.parse(lastRequest(crud, 'GET', '/teleconsultations/').query._q), { $or: [{ 'pendingRoomDeletions.0': { $exists: true } }, { teleconsultationState: 'DELETING' }] })
})

t.test('user map: a unique index turns a second insert into a duplicate; without it the oldest row wins', async t => {
  for (const unique of [true, false]) {
    const crud = await startCrud(t, { uniqueUserIds: unique })
    const stores = createCrudStores({ baseUrl: crud.url, timeoutMs: UPSTREAM_TIMEOUT_MS, teleconsultationsPath: 'teleconsultations', userMapPath: 'teleconsultations_users', userIdHeader: 'miauserid', ...FAST_CRUD })
    t.teardown(() => stores.userMap.close())
    const row = { receivedUserId: 'u1', bandyerId: kaleyraUserIdFor('u1') }
    await stores.userMap.insert(row)
    if (unique) {
      await t.rejects(stores.userMap.insert(row), StoreDuplicateError)
    } else {
      await stores.userMap.insert({ ...row, bandyerId: 'later' })
      t.equal((await stores.userMap.find('u1'))?.bandyerId, row.bandyerId, 'sorted by _id: the first row')
    }
    t.same(await stores.userMap.find('nobody'), null)
  }
})

t.test('ping lists one id; a missing collection or CRUD fails it', async t => {
  const { stores, crud } = await crudSetup(t)
  await stores.teleconsultations.ping()
  await stores.userMap.ping()
  t.match(lastRequest(crud, 'GET', '/teleconsultations/').query, { _l: '1', _p: '_id' })
  const wrong = createCrudStores({ baseUrl: crud.url, timeoutMs: UPSTREAM_TIMEOUT_MS, teleconsultationsPath: 'nope', userMapPath: 'nope_users', userIdHeader: 'miauserid', ...FAST_CRUD })
  t.teardown(() => wrong.teleconsultations.close())
  await t.rejects(wrong.teleconsultations.ping(), UpstreamError)
  await t.rejects(wrong.userMap.ping(), new UpstreamError({ target: 'crud', operation: 'userMap.ping', failure: 'status', upstreamStatus: 404 }))
  await t.rejects(wrong.teleconsultations.get('6b0a74cf6630a573febc6352'), UpstreamError, 'a 404 that is not the CRUD\'s own is not "no such document"')
})

t.test('a collection missing the new fields: 502, and the log names the field to add', async t => {
  const emulator = await startEmulator(t)
  const original = await startFakeCrudService({ collections: { teleconsultations: { fields: TELECONSULTATION_FIELDS.filter(f => f !== 'lastWriteId') }, teleconsultations_users: {} } })
  t.teardown(() => original.close())
  const { app, logs } = await setup(t, { store: 'crud', emulator, crud: original })
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  t.equal(res.statusCode, 502)
  t.same(res.json(), { error: 'CRUD service error' })
  t.ok(logs.records().some(r => typeof r.crudMessage === 'string' && r.crudMessage.includes('"lastWriteId"')))
  t.same(original.documents('teleconsultations'), [])
  t.equal(emulator.liveRooms().length, 0, 'the room is compensated')
})

t.test('the memory store warns at start, except in emulator mode', async t => {
  for (const [emulated, warned] of [[false, true], [true, false]] as const) {
    const logs = captureLogs()
    const app = await buildApp(loadConfig({ BANDYER_BASE_URL: 'http://127.0.0.1:9', BANDYER_API_SECRET_KEY: 'k', KALEYRA_EMULATOR: String(emulated) }), { loggerInstance: logs.logger })
    t.teardown(() => app.close())
    t.equal(logs.records().filter(r => r.level === 40 && String(r.msg).includes('in memory')).length, warned ? 1 : 0)
  }
})

/**
 * The tables of one `## ` section of a markdown page: first-column name (in backticks) → second column (the type), per
 * table.
 */
function markdownTables (markdown: string, heading: string): Array<Map<string, string>> {
  const section = markdown.split(/^## /m).find(part => part.startsWith(heading + '\n'))
  if (section === undefined) throw new Error(`no section ${heading}`)
  const tables: Array<Map<string, string>> = []
  let current: Map<string, string> | undefined
  for (const line of section.split('\n')) {
    if (!line.startsWith('|')) { current = undefined; continue }
    if (current === undefined) { current = new Map(); tables.push(current) }
    const row = /^\| `([A-Za-z_]+)` \| ([^|]+?) \|/.exec(line)
    if (row !== null) current.set(row[1], row[2].toLowerCase())
  }
  return tables.filter(table => table.size > 0)
}

const TYPE_CHECKS: Record<string, (value: unknown) => boolean> = {
  string: v => typeof v === 'string',
  number: v => typeof v === 'number',
  date: v => typeof v === 'string' && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString() === v,
  'array of strings': v => Array.isArray(v) && v.every(e => typeof e === 'string'),
  'array of objects': v => Array.isArray(v) && v.every(e => typeof e === 'object' && e !== null && !Array.isArray(e))
}

t.test('docs/crud-collections.md defines every field the store writes, with the type written', async t => {
  const markdown = await readFile(new URL('../../docs/crud-collections.md', import.meta.url), 'utf8')
  const [fields, participantKeys] = markdownTables(markdown, 'Teleconsultations')
  const [mapFields] = markdownTables(markdown, 'User-id map')
  t.same([...fields.keys()].sort(), [...TELECONSULTATION_FIELDS].sort(), 'the documented fields are the collection the tests use')
  t.same([...mapFields.keys()].sort(), [...USER_MAP_FIELDS].sort())

  // Every kind of write: a complete and a partial teleconsultation, a room swap (non-empty
  // pendingRoomDeletions), completing the participants, losing the room ($unset), a deletion.
  const { app, services, crud } = await crudSetup(t)
  const full: string = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: isoFromNow(HOUR) }) })).json().roomId
  await app.inject({ method: 'PATCH', url: `/teleconsultation/${full}`, payload: { duration_in_seconds: 900 } })
  const partial: string = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ participants: [doctor()], number: 2, start: isoFromNow(HOUR) }) })).json().roomId
  await app.inject({ method: 'PATCH', url: `/teleconsultation/${partial}`, payload: { participants: { number: 2, data: [doctor(), patient()] } } })
  await app.inject({ method: 'PATCH', url: `/teleconsultation/${partial}`, payload: { participants: { number: 3, data: [doctor(), patient()] } } })
  await app.inject({ method: 'DELETE', url: `/teleconsultation/${full}` })
  await services.reaper.idle()

  const check = (documented: Map<string, string>, values: Record<string, unknown>, where: string): void => {
    for (const [field, value] of Object.entries(values)) {
      const type = documented.get(field)
      if (type === undefined) { t.fail(`${where}: ${field} is not documented`); continue }
      t.ok(TYPE_CHECKS[type]?.(value), `${where}: ${field} is written as ${type}`)
      if (field === 'participants') for (const p of value as Array<Record<string, unknown>>) check(participantKeys, p, `${where} participants[]`)
    }
  }
  const writes = crud.requests().filter(r => r.status === 200 || r.status === 204)
  const inserts = writes.filter(r => r.method === 'POST' && r.path === '/teleconsultations/')
  const patches = writes.filter(r => r.method === 'PATCH' && r.path.startsWith('/teleconsultations/'))
  t.equal(inserts.length, 2)
  t.ok(patches.some(r => ((r.body as { $set: { pendingRoomDeletions?: unknown[] } }).$set.pendingRoomDeletions ?? []).length > 0), 'a swap was written')
  for (const insert of inserts) {
    const { __STATE__: state, ...doc } = insert.body as Record<string, unknown>
    t.equal(state, 'PUBLIC')
    check(fields, doc, 'insert')
  }
  for (const patch of patches) {
    const { $set, $unset, ...others } = patch.body as {
      $set: Record<string, unknown>
      $unset?: Record<string, unknown>
    }
    t.same(others, {}, 'only $set and $unset')
    check(fields, $set, '$set')
    for (const field of Object.keys($unset ?? {})) t.ok(fields.has(field), `$unset: ${field} is documented`)
  }
  const mapInserts = writes.filter(r => r.method === 'POST' && r.path === '/teleconsultations_users/')
  t.ok(mapInserts.length > 0)
  for (const insert of mapInserts) {
    const { __STATE__: state, ...row } = insert.body as Record<string, unknown>
    t.equal(state, 'PUBLIC')
    check(mapFields, row, 'user map insert')
  }
})
