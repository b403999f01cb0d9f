// The calls of `npm run kaleyra:check`, in the order the service makes them, through the
// service's own client and parsers: each one ends ok, mismatch (the answer is not what wire.ts
// reads) or failed (Kaleyra refused or did not answer). What the check creates is cleaned up.
import { randomUUID } from 'node:crypto'
import type { AppConfig } from '../config/index.js'
import type { ResolvedParticipant } from '../identity/types.js'
import type { BackgroundUpload, KaleyraClient } from '../kaleyra/client.js'
import { KaleyraFormatError, KaleyraRejectedError } from '../kaleyra/errors.js'
import { MIN_RECORDING_LINK_SECONDS, type KaleyraRole } from '../kaleyra/model.js'
import { buildRoomRequest, ROOM_MARKER_PREFIX } from '../teleconsultations/rooms.js'
import { UpstreamError } from '../upstream/errors.js'

/** The check's own Kaleyra users: created once, deactivated after each run, reused (and reactivated) by the next. */
export const CHECK_USERS: ReadonlyArray<{ id: string, role: KaleyraRole }> = [
  { id: 'tcs-check-plus', role: 'plus' },
  { id: 'tcs-check-basic', role: 'basic' }
]

export type CallOutcome = 'ok' | 'mismatch' | 'failed' | 'skipped'

export interface CallResult {
  /** The client operation (as in the service's metrics), e.g. `createRoom`. */
  call: string
  /** Method and path template, e.g. `GET /v2/rooms/{id}`. */
  request: string
  /** What it was about (our test user ids, never personal data or links). */
  subject?: string
  result: CallOutcome
  /** A few words: what was seen (ok), what is wrong (mismatch), or why it failed. */
  detail?: string
  missing?: string[]
  unexpected?: string[]
  status?: number
  errorName?: string
}

export interface CheckReport {
  calls: CallResult[]
  /** What the check leaves on Kaleyra, in words (ids of its own objects only). */
  remains: string[]
  interrupted: boolean
}

export interface CheckOptions {
  config: AppConfig
  kaleyra: KaleyraClient
  /** Also uploads this virtual background (the company default is never changed). */
  background?: () => BackgroundUpload
  /** Also asks for the recording link of this session (one of a recorded call: a new room has none). */
  recordingSession?: string
  /** Set when the user asked to stop (Ctrl-C): no new call is started, the clean-up still runs. */
  stopped: () => boolean
  /** Told each result as it is known (for live output). */
  onResult?: (result: CallResult) => void
}

/** An answer that parsed but does not say what the service relies on. */
class Mismatch extends Error {}

/** The check's own reading of an error: status and Kaleyra's error name only, never a message or body. */
function outcomeOf (err: unknown): Pick<CallResult, 'result' | 'detail' | 'missing' | 'unexpected' | 'status' | 'errorName'> {
  if (err instanceof Mismatch) return { result: 'mismatch', detail: err.message }
  if (err instanceof KaleyraFormatError) {
    const d = err.diagnosis
    return { result: 'mismatch', detail: d?.problem ?? 'the answer could not be read', missing: d?.missing ?? [], unexpected: d?.unexpected ?? [], status: err.upstreamStatus }
  }
  if (err instanceof KaleyraRejectedError) return { result: 'failed', status: err.upstreamStatus, errorName: err.errorName, detail: 'refused' }
  if (err instanceof UpstreamError) {
    const detail = err.failure === 'timeout' ? 'no answer in time' : err.failure === 'network' ? 'connection failed' : 'error answer'
    return { result: 'failed', status: err.upstreamStatus, detail }
  }
  return { result: 'failed', detail: `unexpected ${err instanceof Error ? err.name : 'error'}` }
}

/** Looks for the room of a creation that failed without a clear answer; undefined when not found. */
async function lostRoom (kaleyra: KaleyraClient, marker: string, startedAt: number): Promise<string | undefined> {
  try {
    const { room } = await kaleyra.findRoom(marker, {
      createdAfter: new Date(startedAt - LOOKBACK_MS),
      ...SEARCH_BUDGET
    })
    return room?.roomId
  } catch {
    return undefined
  }
}

const LOOKBACK_MS = 10 * 60_000
const SEARCH_BUDGET = { maxPages: 200, budgetMs: 60_000 }

export async function runCheck (opts: CheckOptions): Promise<CheckReport> {
  const { kaleyra } = opts
  const calls: CallResult[] = []
  const remains: string[] = []
  let interrupted = false

  function record (result: CallResult): void {
    calls.push(result)
    opts.onResult?.(result)
  }

  /**
   * Runs one call; `run` returns what is worth saying about an ok answer. Check calls are not
   * started once stopped; clean-up calls (`always`) are.
   */
  async function step<T> (
    call: string, request: string, subject: string | undefined,
    run: () => Promise<{ value: T, detail?: string }>,
    how: { always?: boolean, onError?: (err: unknown) => void } = {}
  ): Promise<T | undefined> {
    if (opts.stopped() && how.always !== true) {
      interrupted = true
      return undefined
    }
    try {
      const { value, detail } = await run()
      record({ call, request, subject, result: 'ok', detail })
      return value
    } catch (err) {
      record({ call, request, subject, ...outcomeOf(err) })
      how.onError?.(err)
      return undefined
    }
  }

  function skip (call: string, request: string, subject: string | undefined, why: string): void {
    if (opts.stopped()) interrupted = true
    else record({ call, request, subject, result: 'skipped', detail: why })
  }

  // Users: created (or found, and made usable again), then read.
  const existing = new Set<string>()
  const ready = new Set<string>()
  for (const user of CHECK_USERS) {
    const subject = `${user.id} (${user.role})`
    const created = await step('createUser', 'POST /v2/users', subject, async () => {
      const { created } = await kaleyra.createUser(user.id, user.role)
      return { value: created, detail: created ? 'created' : 'already there (from an earlier run)' }
    }, {
      // An answer we could not read still created the user, most likely: read it, clean it up.
      onError: err => { if (err instanceof KaleyraFormatError) existing.add(user.id) }
    })
    if (created !== undefined) existing.add(user.id)
    if (!existing.has(user.id)) continue
    const found = await step('getUser', 'GET /v2/users/{id}', subject, async () => {
      const found = await kaleyra.getUser(user.id)
      if (found === null) throw new Mismatch('404 for a user that exists')
      if (found.userId !== user.id) throw new Mismatch('the answer names another user')
      const active = found.active === null ? 'active not given' : found.active ? 'active' : 'inactive'
      return { value: found, detail: `${found.role ?? 'role not given'}, ${active}` }
    })
    if (found === undefined) continue
    const changes = { ...(found.active === false ? { active: true } : {}), ...(user.role === 'plus' && found.role !== 'plus' ? { role: user.role } : {}) }
    if (Object.keys(changes).length > 0) {
      const updated = await step('updateUser', 'PUT /v2/users/{id}', subject, async () => {
        if (!await kaleyra.updateUser(user.id, changes)) throw new Mismatch('404 for a user that exists')
        return { value: true, detail: `set ${Object.keys(changes).join(', ')}` }
      })
      if (updated === undefined) continue
    }
    ready.add(user.id)
  }

  // The room, made with the service's own request builder (recording and transcription as configured).
  const marker = `${ROOM_MARKER_PREFIX}check-${randomUUID()}`
  const startedAt = Date.now()
  let roomId: string | undefined
  let roomUnknown = false
  if (CHECK_USERS.every(u => ready.has(u.id))) {
    const participants: ResolvedParticipant[] = CHECK_USERS.map(u => ({
      userId: u.id,
      groups: [],
      role: u.role,
      bandyerId: u.id
    }))
    const schedule = {
      startDate: new Date(startedAt).toISOString(),
      endDate: new Date(startedAt + 10 * 60_000).toISOString()
    }
    const request = buildRoomRequest(opts.config, participants, schedule, marker)
    const asked = `recording ${request.recording}${request.offline_transcription === true ? ' with offline transcription' : ''}`
    const room = await step('createRoom', 'POST /v2/rooms', asked, async () => ({ value: await kaleyra.createRoom(request), detail: 'a link for each participant' }), {
      onError: err => {
        if (err instanceof KaleyraFormatError && err.roomId !== undefined) roomId = err.roomId
        else if (err instanceof UpstreamError && err.ambiguous) roomUnknown = true
      }
    })
    if (room !== undefined) roomId = room.roomId
  } else {
    skip('createRoom', 'POST /v2/rooms', undefined, 'needs both test users')
  }

  if (roomId !== undefined) {
    const id = roomId
    await step('getRoom', 'GET /v2/rooms/{id}', undefined, async () => {
      const found = await kaleyra.getRoom(id)
      if (found === null) throw new Mismatch('404 for the room just created')
      return { value: found, detail: `status ${found.status ?? 'not given'}, recording ${found.recording ?? 'not given'}` }
    })
    await step('listRooms', 'GET /v2/rooms', undefined, async () => {
      const search = await kaleyra.findRoom(marker, {
        createdAfter: new Date(startedAt - LOOKBACK_MS),
        ...SEARCH_BUDGET
      })
      if (search.room === null) {
        const budget = search.exhausted ? ', budget exhausted' : ''
        throw new Mismatch(`the room is not in the list (${search.pages} pages read${budget}): a room whose creation answer is lost would not be found`)
      }
      return { value: search.room, detail: `found by its description (${search.pages} page${search.pages === 1 ? '' : 's'})` }
    })
    await step('listUploads', 'GET /v2/uploads', undefined, async () => {
      const uploads = await kaleyra.listUploads(id)
      return { value: uploads, detail: `${uploads.length} uploads` }
    })
    await step('listSessions', 'GET /v2/sessions', undefined, async () => {
      const sessions = await kaleyra.listSessions(id)
      return { value: sessions, detail: `${sessions.length} sessions` }
    })
  } else {
    for (const [call, request] of [['getRoom', 'GET /v2/rooms/{id}'], ['listRooms', 'GET /v2/rooms'], ['listUploads', 'GET /v2/uploads'], ['listSessions', 'GET /v2/sessions']]) {
      skip(call, request, undefined, 'needs the room')
    }
  }

  const plus = CHECK_USERS[0]
  if (ready.has(plus.id)) {
    await step('createSdkCredentials', 'POST /v2/sdk/credentials', plus.id, async () => {
      const credentials = await kaleyra.createSdkCredentials(plus.id, 360)
      if (credentials.userId !== plus.id) throw new Mismatch('the credentials name another user')
      return { value: credentials, detail: 'a token (not shown)' }
    })
  } else {
    skip('createSdkCredentials', 'POST /v2/sdk/credentials', plus.id, 'needs the plus test user')
  }
  await step('getCompany', 'GET /v2/company', undefined, async () => {
    const company = await kaleyra.getCompany()
    return { value: company, detail: `default language ${company.defaultLanguage ?? 'not given'}` }
  })
  await step('listVirtualBackgrounds', 'GET /v2/company/virtual-backgrounds', undefined, async () => {
    const backgrounds = await kaleyra.listVirtualBackgrounds()
    return { value: backgrounds, detail: `${backgrounds.length} backgrounds` }
  })
  if (opts.background !== undefined) {
    const upload = opts.background
    const background = await step('uploadVirtualBackground', 'POST /v2/company/virtual-background', undefined, async () => {
      const bg = await kaleyra.uploadVirtualBackground(upload())
      return { value: bg, detail: `alias ${bg.alias}; the company default is unchanged` }
    })
    if (background !== undefined) remains.push(`the virtual background ${background.alias} (there is no call to delete it)`)
  }

  if (opts.recordingSession !== undefined) {
    const sessionId = opts.recordingSession
    await step('getRecording', 'GET /v2/sessions/{id}/recording', sessionId, async () => {
      const link = await kaleyra.getRecordingLink(sessionId, MIN_RECORDING_LINK_SECONDS)
      if (link === null) throw new Mismatch('no recording for this session (404: unknown, not recorded, not processed yet, or another path)')
      // Whether Kaleyra took the validity asked for (the parameter's name is assumed) shows here.
      const seconds = Math.round((link.expiresAt.getTime() - Date.now()) / 1000)
      return { value: link, detail: `a temporary link (not shown), valid about ${seconds} s (${MIN_RECORDING_LINK_SECONDS} s asked)` }
    })
  }

  // Clean-up: also after a failure or when stopped.
  if (opts.stopped()) interrupted = true
  if (roomId === undefined && roomUnknown) roomId = await lostRoom(kaleyra, marker, startedAt)
  if (roomId !== undefined) {
    const id = roomId
    const deleted = await step('deleteRoom', 'DELETE /v2/rooms/{id}', undefined, async () => {
      if (await kaleyra.deleteRoom(id) === 'absent') throw new Mismatch('404 for the room (it was already gone)')
      return { value: true, detail: 'deleted' }
    }, { always: true })
    if (deleted === true) {
      await step('getRoom', 'GET /v2/rooms/{id}', 'after the deletion', async () => {
        if (await kaleyra.getRoom(id) !== null) throw new Mismatch('the deleted room is still there')
        return { value: true, detail: '404: gone' }
      }, { always: true })
    } else {
      remains.push(`room ${id} (it could not be deleted: delete it by hand)`)
    }
  } else if (roomUnknown) {
    remains.push(`perhaps a room described ${marker} (its creation failed without a clear answer, and it was not found)`)
  }
  for (const user of CHECK_USERS.filter(u => existing.has(u.id))) {
    const deactivated = await step('updateUser', 'PUT /v2/users/{id}', `${user.id} (${user.role})`, async () => {
      const found = await kaleyra.updateUser(user.id, { active: false })
      return { value: found, detail: found ? 'deactivated' : '404: not on Kaleyra' }
    }, { always: true })
    if (deactivated !== false) remains.push(`user ${user.id} (${deactivated === true ? 'inactive; reused next time' : 'still active'})`)
  }
  return { calls, remains, interrupted }
}
