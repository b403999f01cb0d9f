// The service's own Kaleyra client (src/kaleyra) against the emulator: every answer the emulator
// gives must parse with wire.ts, and every request the client sends must be accepted.
import t from 'tap'
import { createKaleyraClient } from '../../src/kaleyra/client.js'
import { KaleyraRejectedError } from '../../src/kaleyra/errors.js'
import { paths } from '../../src/kaleyra/wire.js'
import { TOOL_NAMES, type Tools } from '../../src/kaleyra/model.js'
import { UpstreamError } from '../../src/upstream/errors.js'
import { startKaleyraEmulator } from '../../src/emulator/index.js'
import { FAULT_TIMEOUT_MS, UPSTREAM_TIMEOUT_MS } from '../helpers/app.js'

const tools = Object.fromEntries(TOOL_NAMES.map(name => [name, true])) as Tools

t.test('the Kaleyra client works end to end against the emulator', async t => {
  const emu = await startKaleyraEmulator({ apiKey: 'ak_contract' })
  const client = createKaleyraClient({ baseUrl: `${emu.url}/v2`, apiKey: 'ak_contract', timeoutMs: UPSTREAM_TIMEOUT_MS, retries: 0 })
  t.teardown(async () => {
    await client.close()
    await emu.close()
  })

  t.same(await client.createUser('doc', 'plus'), { userId: 'doc', created: true })
  t.same(await client.createUser('doc', 'plus'), { userId: 'doc', created: false }, '409 means already there')
  await client.createUser('pat', 'basic')
  t.same(await client.getUser('pat'), { userId: 'pat', role: 'basic', active: true })
  t.equal(await client.updateUser('pat', { role: 'basic' }), true, 'PUT /v2/users/{id} { role }')
  t.equal(await client.updateUser('pat', { active: false }), true, 'PUT /v2/users/{id} { active }')
  t.same(await client.createUser('pat', 'basic'), { userId: 'pat', created: false }, 'an inactive user is a duplicate too (422 naming it)')
  t.same(await client.getUser('pat'), { userId: 'pat', role: 'basic', active: false })
  await client.updateUser('pat', { active: true })
  t.equal(await client.getUser('ghost'), null)

  const room = await client.createRoom({
    participants: [{ user_id: 'doc', is_admin: true, tools }, { user_id: 'pat', is_admin: false, tools }],
    recording: 'manual',
    offline_transcription: true,
    live: true,
    duration: 600,
    description: 'tc-123'
  })
  t.match(room, { recording: 'manual', live: true, durationInSeconds: 600, status: 'NOT_RUNNING', disabled: false, callType: 'audio_video' })
  t.same(room.links.map(l => l.userId), ['doc', 'pat'])
  const fetched = await client.getRoom(room.roomId)
  t.match(fetched, { roomId: room.roomId, description: 'tc-123', recordingStatus: 'stopped', durationUsedInSeconds: 0 })
  t.same(fetched?.links, room.links)

  const page = await client.listRooms(0, 100)
  t.same(page.items.map(r => r.description), ['tc-123'])
  t.equal(page.hasMore, false)

  emu.addUploads(room.roomId, 130)
  const uploads = await client.listUploads(room.roomId)
  t.equal(uploads.length, 130, 'listUploads walks every page')
  t.equal(await client.deleteUpload(uploads[0].key), 'deleted')
  t.equal(await client.deleteUpload(uploads[0].key), 'absent')

  const session = emu.addSession(room.roomId, { transcription: { segments: [] } })
  const sessions = await client.listSessions(room.roomId)
  t.same(sessions.map(s => s.sessionId), [session])
  const transcription = await client.openTranscription(session)
  t.equal(transcription?.length, Buffer.byteLength(JSON.stringify({ segments: [] })))
  t.same(JSON.parse(Buffer.concat(await transcription?.body.toArray() ?? []).toString()), { segments: [] })
  t.equal(await client.openTranscription(emu.addSession(room.roomId)), null, 'no transcription yet')

  const credentials = await client.createSdkCredentials('pat', 3600)
  t.equal(credentials.userId, 'pat')
  t.equal(credentials.accessToken.split('.').length, 3)

  async function * jpeg (): AsyncGenerator<Buffer> {
    yield Buffer.from([0xff, 0xd8])
    yield Buffer.from([0xff, 0xdb, 0])
  }
  const background = await client.uploadVirtualBackground({ filename: 'bg "1".jpg', contentType: 'image/jpeg', content: jpeg() })
  t.match(background, { alias: /^[0-9a-f]{32}$/, url: `${emu.url}/backgrounds/${background.alias}.jpg` })
  t.same(await client.listVirtualBackgrounds(), [background])
  const company = await client.updateCompany(background.alias)
  t.same(company.defaultBackground, background)
  t.match(await client.getCompany(), { name: 'Emulated Company', defaultLanguage: 'en', defaultBackground: background })

  t.equal(await client.deleteRoom(room.roomId), 'deleted')
  t.equal(await client.deleteRoom(room.roomId), 'absent')
  t.equal(await client.getRoom(room.roomId), null)
})

t.test('emulator refusals and faults reach the client as typed errors', async t => {
  const emu = await startKaleyraEmulator({ apiKey: 'ak_contract' })
  const client = createKaleyraClient({ baseUrl: emu.url, apiKey: 'ak_contract', timeoutMs: UPSTREAM_TIMEOUT_MS, retries: 0 })
  t.teardown(async () => {
    await client.close()
    await emu.close()
  })
  await client.createUser('pat', 'basic')
  await client.createUser('kid', 'basic')
  const noPlus = await client.createRoom({ participants: [{ user_id: 'pat', is_admin: false, tools }, { user_id: 'kid', is_admin: false, tools }], recording: 'none' })
    .catch((err: unknown) => err)
  t.ok(noPlus instanceof KaleyraRejectedError)
  t.equal((noPlus as KaleyraRejectedError).errorName, 'validation_error')
  t.equal((noPlus as KaleyraRejectedError).upstreamStatus, 422)

  const badKey = createKaleyraClient({ baseUrl: emu.url, apiKey: 'ak_wrong', timeoutMs: UPSTREAM_TIMEOUT_MS, retries: 0 })
  const refused = await badKey.getCompany().catch((err: unknown) => err)
  await badKey.close()
  t.equal((refused as KaleyraRejectedError).errorName, 'invalid_api_key')

  await client.createUser('doc', 'plus')
  emu.faults.add({ method: 'POST', path: paths.rooms(), kind: 'status', phase: 'after', times: 1 })
  const lost = await client.createRoom({ participants: [{ user_id: 'doc', is_admin: true, tools }, { user_id: 'pat', is_admin: false, tools }], recording: 'none', description: 'tc-9' })
    .catch((err: unknown) => err)
  t.ok(lost instanceof UpstreamError && lost.ambiguous, 'a 5xx on room creation is ambiguous')
  const found = (await client.listRooms(0, 100)).items.find(r => r.description === 'tc-9')
  t.ok(found !== undefined, 'the room whose answer was lost can be found by description')

  // Only the hanging call gets a short deadline.
  const impatient = createKaleyraClient({ baseUrl: emu.url, apiKey: 'ak_contract', timeoutMs: FAULT_TIMEOUT_MS, retries: 0 })
  emu.faults.add({ path: paths.company(), kind: 'hang', times: 1 })
  const timedOut = await impatient.getCompany().catch((err: unknown) => err)
  await impatient.close()
  t.equal((timedOut as UpstreamError).failure, 'timeout')
})
