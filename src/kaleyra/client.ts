import type { Dispatcher } from 'undici'
import type { BaseLogger } from 'pino'
import { UpstreamError } from '../upstream/errors.js'
import {
  HttpUpstream, retryAfterMs, type JsonResponse, type UpstreamObserver, type UpstreamRequest, type UpstreamResponse
} from '../upstream/http.js'
import { multipartFileBody } from '../upstream/multipart.js'
import { KaleyraFormatError, KaleyraRejectedError, kaleyraStatusError, type FormatErrorDetails } from './errors.js'
import { diagnose } from './shape.js'
import { transcriptionDownload, type TranscriptionDownload } from './transcription.js'
import {
  ANSWER_SHAPES, isDuplicateUserAnswer, paths, parseCompany, parseErrorName, parseRecordingLink, parseRoom,
  parseRoomList, parseSdkCredentials, parseSessionList, parseUploadList, parseUser, parseVirtualBackground,
  parseVirtualBackgroundList, RECORDING_LINK_EXPIRY_QUERY, VIRTUAL_BACKGROUND_FIELD, type CreateRoomRequest,
  type CreateUserRequest, type ParsedCall, type UpdateUserRequest
} from './wire.js'
import {
  MIN_RECORDING_LINK_SECONDS, type Company, type KaleyraRole, type KaleyraRoom, type KaleyraSession,
  type KaleyraUpload, type KaleyraUser, type Page, type RecordingLink, type SdkCredentials, type VirtualBackground
} from './model.js'

export type { TranscriptionDownload } from './transcription.js'
/** The request bodies the client's callers build (room creation, user update). */
export type { CreateRoomRequest, UpdateUserRequest } from './wire.js'

export interface KaleyraClientOptions {
  /** e.g. `https://api.sandbox.eu.bandyer.com`; a trailing `/v2` is accepted and ignored. */
  baseUrl: string
  apiKey: string
  timeoutMs: number
  dispatcher?: Dispatcher
  retries?: number
  retryDelayMs?: number
  observer?: UpstreamObserver
  /** Where answers we cannot read are reported (key paths only, each distinct shape once). */
  log?: Pick<BaseLogger, 'error'>
  /** user-agent of every request (default: undici's). */
  userAgent?: string
}

/** Whether Kaleyra can be used right now, and if not, why (for the readiness probe; never secret). */
export type KaleyraReachability = { reachable: true } | { reachable: false, reason: string }

/** A file to send as a company virtual background; `content` is read once, as it is sent. */
export interface BackgroundUpload {
  filename: string
  contentType: string
  content: AsyncIterable<Uint8Array>
}

/** Looking for a room by its description (a room whose creation answer was lost). */
export interface RoomSearch {
  /** Narrows the listing to rooms created since then, if Kaleyra takes the `from` filter. */
  createdAfter?: Date
  /** Pages of ROOM_PAGE rooms read at most. */
  maxPages: number
  /** Time spent at most (checked before each page). */
  budgetMs: number
  /** Stops the search before the next page (e.g. on shutdown). */
  signal?: AbortSignal
}

/** `exhausted`: the budget ran out while Kaleyra still had rooms to list. */
export interface RoomSearchResult { room: KaleyraRoom | null, pages: number, exhausted: boolean }

export const ROOM_PAGE = 100

/** Distinct answer shapes reported per process (the first of each is enough to fix wire.ts). */
const MAX_REPORTED_SHAPES = 200

export function normalizeKaleyraBaseUrl (baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '').replace(/\/v2$/, '')
}

/** An unexpected status becomes an error: 5xx → 502 (ambiguous for writes), 429 → 503, other 4xx → rejected. */
function fail (req: UpstreamRequest, res: JsonResponse): never {
  if (res.statusCode >= 500 || res.statusCode === 429) {
    const retryAfter = retryAfterMs(res.headers['retry-after'])
    const retryAfterSeconds = retryAfter === null ? undefined : Math.ceil(retryAfter / 1000)
    const write = req.method === 'POST' || req.method === 'PUT'
    throw kaleyraStatusError(req.operation, res.statusCode, write, retryAfterSeconds)
  }
  throw new KaleyraRejectedError(req.operation, res.statusCode, parseErrorName(res.data))
}

async function listAll<T> (
  fetchPage: (offset: number, limit: number) => Promise<Page<T>>,
  limit = 100,
  maxPages = 1000
): Promise<T[]> {
  const items: T[] = []
  for (let page = 0, offset = 0; page < maxPages; page++) {
    const { items: batch, hasMore } = await fetchPage(offset, limit)
    items.push(...batch)
    if (!hasMore || batch.length === 0) return items
    offset += batch.length
  }
  return items
}

/** Kaleyra Video REST v2, as the service uses it: one keep-alive pool, tolerant parsers (wire.ts). */
export class KaleyraClient {
  readonly #http: HttpUpstream
  readonly #log: Pick<BaseLogger, 'error'> | undefined
  /** Answer shapes already reported. */
  readonly #reported = new Set<string>()
  // Set once Kaleyra refuses the `from` filter on rooms: later searches page without it.
  #roomsRefuseFrom = false
  // Set once Kaleyra refuses the (assumed) expiry parameter of recording links and answers without it.
  #recordingRefusesExpiry = false

  constructor (opts: KaleyraClientOptions) {
    this.#http = new HttpUpstream({
      target: 'kaleyra',
      baseUrl: normalizeKaleyraBaseUrl(opts.baseUrl),
      timeoutMs: opts.timeoutMs,
      dispatcher: opts.dispatcher,
      defaultHeaders: { apikey: opts.apiKey },
      userAgent: opts.userAgent,
      retries: opts.retries,
      retryDelayMs: opts.retryDelayMs,
      observer: opts.observer
    })
    this.#log = opts.log
  }

  /**
   * Creates a user with our own id, sent as `id`. Ids are derived deterministically from the
   * external id, so a retry or a creation elsewhere meets a duplicate, which means "already
   * there" (409, or a 400/422 naming a duplicate: see isDuplicateUserAnswer).
   */
  async createUser (userId: string, role: KaleyraRole): Promise<{ userId: string, created: boolean }> {
    const json: CreateUserRequest = { id: userId, role }
    const req: UpstreamRequest = { operation: 'createUser', method: 'POST', path: paths.users(), json, retry: true }
    const res = await this.#http.requestJson(req)
    if (isDuplicateUserAnswer(res.statusCode, res.data)) return { userId, created: false }
    if (res.statusCode !== 200 && res.statusCode !== 201) fail(req, res)
    const returned = this.#understood('createUser', res, body => parseUser(body, 'createUser').userId)
    if (returned !== userId) {
      // Kaleyra ignored the id we sent and made up one: that user is ours and of no use, so it
      // is deactivated (best effort); nothing else is touched.
      await this.updateUser(returned, { active: false }).catch(() => false)
      throw this.#notUnderstood(
        'createUser',
        res,
        `the user was created under another id than the one sent (request fields: ${Object.keys(json).join(', ')})`
      )
    }
    return { userId, created: true }
  }

  async getUser (userId: string): Promise<KaleyraUser | null> {
    const res = await this.#call({ operation: 'getUser', method: 'GET', path: paths.user(userId) }, [200, 404])
    if (res.statusCode === 404) return null
    return this.#understood('getUser', res, body => parseUser(body, 'getUser'))
  }

  /** Changes a user (the same body twice is harmless, hence retried); false when Kaleyra has no such user. */
  async updateUser (userId: string, changes: UpdateUserRequest): Promise<boolean> {
    const res = await this.#call(
      { operation: 'updateUser', method: 'PUT', path: paths.user(userId), json: changes, retry: true },
      [200, 204, 404]
    )
    return res.statusCode !== 404
  }

  /**
   * Never retried: Kaleyra has no idempotency key for rooms (see the reaper for ambiguous
   * failures; a 2xx we cannot read counts as one). Every participant sent must get a link:
   * otherwise the error carries the room id, for the caller to delete the room.
   */
  async createRoom (room: CreateRoomRequest): Promise<KaleyraRoom> {
    const res = await this.#call({
      operation: 'createRoom', method: 'POST', path: paths.rooms(), json: room, retry: false
    })
    const created = this.#understood('createRoom', res, body => parseRoom(body, 'createRoom'), true)
    const linked = new Set(created.links.map(l => l.userId))
    if (!room.participants.every(p => linked.has(p.user_id))) {
      throw this.#notUnderstood('createRoom', res, 'a participant has no link', { roomId: created.roomId })
    }
    return created
  }

  async getRoom (roomId: string): Promise<KaleyraRoom | null> {
    const res = await this.#call({ operation: 'getRoom', method: 'GET', path: paths.room(roomId) }, [200, 404])
    return res.statusCode === 404 ? null : this.#understood('getRoom', res, body => parseRoom(body, 'getRoom'))
  }

  /** Resolves to 'absent' when the room was already gone, which is what a retry after a lost answer sees. */
  async deleteRoom (roomId: string): Promise<'deleted' | 'absent'> {
    const res = await this.#call(
      { operation: 'deleteRoom', method: 'DELETE', path: paths.room(roomId) },
      [200, 202, 204, 404]
    )
    return res.statusCode === 404 ? 'absent' : 'deleted'
  }

  async listRooms (offset: number, limit: number, from?: string): Promise<Page<KaleyraRoom>> {
    const res = await this.#call(
      { operation: 'listRooms', method: 'GET', path: paths.rooms(), query: { offset, limit, from } },
      [200]
    )
    return this.#understood('listRooms', res, parseRoomList)
  }

  /**
   * Pages through the room list to its end (nothing says in which order Kaleyra lists rooms),
   * within the search's page and time budget. The `from` filter is tried first; a listing that
   * refuses it (400/422) is paged without it from then on, and one that ignores it is just longer.
   */
  async findRoom (description: string, search: RoomSearch): Promise<RoomSearchResult> {
    const started = Date.now()
    let from = search.createdAfter !== undefined && !this.#roomsRefuseFrom
      ? search.createdAfter.toISOString()
      : undefined
    let pages = 0
    let offset = 0
    while (pages < search.maxPages && Date.now() - started < search.budgetMs && search.signal?.aborted !== true) {
      let page: Page<KaleyraRoom>
      try {
        page = await this.listRooms(offset, ROOM_PAGE, from)
      } catch (err) {
        const refused =
          err instanceof KaleyraRejectedError && (err.upstreamStatus === 400 || err.upstreamStatus === 422)
        if (from === undefined || !refused) throw err
        this.#roomsRefuseFrom = true
        from = undefined
        continue
      } finally {
        pages++
      }
      const room = page.items.find(r => r.description === description)
      if (room !== undefined) return { room, pages, exhausted: false }
      if (!page.hasMore || page.items.length === 0) return { room: null, pages, exhausted: false }
      offset += page.items.length
    }
    return { room: null, pages, exhausted: true }
  }

  async listUploadsPage (roomId: string, offset: number, limit: number): Promise<Page<KaleyraUpload>> {
    const res = await this.#call(
      { operation: 'listUploads', method: 'GET', path: paths.uploads(), query: { room_id: roomId, offset, limit } },
      [200]
    )
    return this.#understood('listUploads', res, parseUploadList)
  }

  async listUploads (roomId: string): Promise<KaleyraUpload[]> {
    return await listAll((offset, limit) => this.listUploadsPage(roomId, offset, limit))
  }

  async deleteUpload (key: string): Promise<'deleted' | 'absent'> {
    const res = await this.#call(
      { operation: 'deleteUpload', method: 'DELETE', path: paths.upload(key) },
      [200, 202, 204, 404]
    )
    return res.statusCode === 404 ? 'absent' : 'deleted'
  }

  async createSdkCredentials (userId: string, expiresIn: number): Promise<SdkCredentials> {
    const res = await this.#call({
      operation: 'createSdkCredentials',
      method: 'POST',
      path: paths.sdkCredentials(),
      json: { user_id: userId, expires_in: expiresIn },
      retry: true
    })
    return this.#understood('createSdkCredentials', res, parseSdkCredentials)
  }

  async getCompany (): Promise<Company> {
    const res = await this.#call({ operation: 'getCompany', method: 'GET', path: paths.company() }, [200])
    return this.#understood('getCompany', res, body => parseCompany(body, 'getCompany'))
  }

  async updateCompany (backgroundAlias: string): Promise<Company> {
    const res = await this.#call({
      operation: 'updateCompany',
      method: 'PUT',
      path: paths.company(),
      json: { background_alias: backgroundAlias },
      retry: true
    }, [200])
    const company = this.#understood('updateCompany', res, body => parseCompany(body, 'updateCompany'))
    return await this.withBackgroundDetails(company)
  }

  /** Kaleyra may name the default background by alias only; its url and date are in the background list. */
  async withBackgroundDetails (company: Company): Promise<Company> {
    const bg = company.defaultBackground
    if (bg === null || (bg.url !== null && bg.creationDate !== null)) return company
    const found = (await this.listVirtualBackgrounds()).find(b => b.alias === bg.alias)
    if (found === undefined) return company
    return { ...company, defaultBackground: { alias: bg.alias, url: found.url, creationDate: found.creationDate } }
  }

  async listVirtualBackgrounds (): Promise<VirtualBackground[]> {
    const res = await this.#call(
      { operation: 'listVirtualBackgrounds', method: 'GET', path: paths.virtualBackgrounds() },
      [200]
    )
    return this.#understood('listVirtualBackgrounds', res, parseVirtualBackgroundList)
  }

  /** Streams the file to Kaleyra as it arrives. Never retried: the content can be read only once. */
  async uploadVirtualBackground (file: BackgroundUpload): Promise<VirtualBackground> {
    const { contentType, body } = multipartFileBody({ field: VIRTUAL_BACKGROUND_FIELD, ...file })
    const res = await this.#call({
      operation: 'uploadVirtualBackground',
      method: 'POST',
      path: paths.virtualBackground(),
      body,
      headers: { 'content-type': contentType },
      retry: false
    })
    return this.#understood('uploadVirtualBackground', res, parseVirtualBackground)
  }

  async listSessions (roomId: string): Promise<KaleyraSession[]> {
    return await listAll(async (offset, limit) => {
      const res = await this.#call(
        { operation: 'listSessions', method: 'GET', path: paths.sessions(), query: { room_id: roomId, offset, limit } },
        [200]
      )
      return this.#understood('listSessions', res, parseSessionList)
    })
  }

  /**
   * Readiness: one cheap read with a short deadline, never retried. Any answer but a 5xx means
   * Kaleyra is reachable, except 401/403: then every call would fail, so it counts as down.
   */
  async ping (timeoutMs: number): Promise<KaleyraReachability> {
    let res: UpstreamResponse
    try {
      res = await this.#http.request({
        operation: 'ping', method: 'GET', path: paths.company(), retry: false, timeoutMs
      })
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err
      const reason = err.failure === 'timeout' ? `no answer within ${timeoutMs} ms` : 'unreachable'
      return { reachable: false, reason }
    }
    await res.body.dump()
    if (res.statusCode === 401 || res.statusCode === 403) {
      return { reachable: false, reason: `API key refused (${res.statusCode})` }
    }
    if (res.statusCode >= 500) return { reachable: false, reason: `answered ${res.statusCode}` }
    return { reachable: true }
  }

  /**
   * The transcription of a session, unread; null when Kaleyra has none (yet). An answer that is
   * a temporary link to the file (see transcriptionDownload) is followed.
   */
  async openTranscription (sessionId: string): Promise<TranscriptionDownload | null> {
    const refuse = async (req: UpstreamRequest, res: UpstreamResponse): Promise<never> => {
      await res.body.dump()
      return fail(req, { statusCode: res.statusCode, headers: res.headers, data: undefined, attempt: res.attempt })
    }
    const req: UpstreamRequest = { operation: 'getTranscription', method: 'GET', path: paths.transcription(sessionId) }
    const res = await this.#http.request(req)
    if (res.statusCode === 200) return await transcriptionDownload(this.#http, res, refuse)
    if (res.statusCode === 404) {
      await res.body.dump()
      return null
    }
    return await refuse(req, res)
  }

  /**
   * A temporary download link to a session's recording, valid `validitySeconds` (30–3600); null
   * when Kaleyra has no recording for it (yet). The link's end is the one Kaleyra gives; without
   * one, it counts from the request: the validity asked for, or Kaleyra's documented minimum
   * (30 s) when the expiry parameter had to be dropped. A 400/422 to that parameter (its name is
   * assumed) is asked again without it, and then never sent again.
   */
  async getRecordingLink (sessionId: string, validitySeconds: number): Promise<RecordingLink | null> {
    const ask = async (withExpiry: boolean): Promise<{ res: JsonResponse, asked: Date }> => {
      const asked = new Date()
      const query = withExpiry ? { [RECORDING_LINK_EXPIRY_QUERY]: validitySeconds } : undefined
      const res = await this.#http.requestJson({
        operation: 'getRecording', method: 'GET', path: paths.recording(sessionId), query
      })
      return { res, asked }
    }
    let sent = !this.#recordingRefusesExpiry
    let { res, asked } = await ask(sent)
    if (sent && (res.statusCode === 400 || res.statusCode === 422)) {
      sent = false
      ;({ res, asked } = await ask(false))
      if (res.statusCode === 200 || res.statusCode === 404) this.#recordingRefusesExpiry = true
    }
    if (res.statusCode === 404) return null
    if (res.statusCode !== 200) {
      fail({ operation: 'getRecording', method: 'GET', path: paths.recording(sessionId) }, res)
    }
    const link = this.#understood('getRecording', res, body => parseRecordingLink(body, asked))
    const seconds = sent ? validitySeconds : MIN_RECORDING_LINK_SECONDS
    return { url: link.url, expiresAt: link.expiresAt ?? new Date(asked.getTime() + seconds * 1000) }
  }

  async close (): Promise<void> {
    await this.#http.close()
  }

  async #call (req: UpstreamRequest, ok: number[] = [200, 201]): Promise<JsonResponse> {
    const res = await this.#http.requestJson(req)
    if (!ok.includes(res.statusCode)) fail(req, res)
    return res
  }

  /** The error for an answer we cannot use; its shape (key paths, never values) is logged once. */
  #notUnderstood (
    operation: ParsedCall,
    res: JsonResponse,
    problem: string,
    details: FormatErrorDetails = {}
  ): KaleyraFormatError {
    const diagnosis = diagnose(
      operation,
      ANSWER_SHAPES[operation],
      res.data,
      res.data === undefined ? 'the answer is not JSON' : problem
    )
    const key = JSON.stringify(diagnosis)
    if (!this.#reported.has(key) && this.#reported.size < MAX_REPORTED_SHAPES) {
      this.#reported.add(key)
      this.#log?.error(
        { kaleyraAnswer: diagnosis, upstreamStatus: res.statusCode },
        `Kaleyra ${operation} answer not understood: ${diagnosis.problem}`
      )
    }
    return new KaleyraFormatError(operation, res.statusCode, { ...details, diagnosis })
  }

  /** Runs a wire.ts parser; what it cannot read is reported with the answer's shape. */
  #understood<T> (operation: ParsedCall, res: JsonResponse, parse: (body: unknown) => T, ambiguous = false): T {
    try {
      return parse(res.data)
    } catch (err) {
      if (!(err instanceof KaleyraFormatError)) throw err
      throw this.#notUnderstood(operation, res, 'the answer does not have the expected shape', { ambiguous })
    }
  }
}

export function createKaleyraClient (opts: KaleyraClientOptions): KaleyraClient {
  return new KaleyraClient(opts)
}
