import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { UpstreamError } from '../upstream/errors.js'
import { HttpUpstream, type JsonResponse, type UpstreamObserver, type UpstreamRequest, type UpstreamResponse } from '../upstream/http.js'
import { multipartFileBody } from '../upstream/multipart.js'
import { KaleyraFormatError, KaleyraRejectedError, kaleyraStatusError } from './errors.js'
import {
  paths, parseCompany, parseErrorName, parseRoom, parseRoomList, parseSdkCredentials, parseSessionList,
  parseUploadList, parseUserId, parseUserRole, parseVirtualBackground, parseVirtualBackgroundList, VIRTUAL_BACKGROUND_FIELD,
  type Company, type CreateRoomRequest, type KaleyraRole, type KaleyraRoom, type KaleyraSession, type KaleyraUpload,
  type Page, type SdkCredentials, type VirtualBackground
} from './wire.js'

export interface KaleyraClientOptions {
  /** e.g. `https://api.sandbox.eu.bandyer.com`; a trailing `/v2` is accepted and ignored. */
  baseUrl: string
  apiKey: string
  timeoutMs: number
  dispatcher?: Dispatcher
  retries?: number
  retryDelayMs?: number
  observer?: UpstreamObserver
}

export type KaleyraClient = ReturnType<typeof createKaleyraClient>

/** Whether Kaleyra can be used right now, and if not, why (for the readiness probe; never secret). */
export type KaleyraReachability = { reachable: true } | { reachable: false, reason: string }

/** A file to send as a company virtual background; `content` is read once, as it is sent. */
export interface BackgroundUpload {
  filename: string
  contentType: string
  content: AsyncIterable<Uint8Array>
}

/** A transcription being downloaded: the caller must consume or destroy `body`. */
export interface TranscriptionDownload {
  /** From content-length; null when Kaleyra streams without announcing a size. */
  length: number | null
  body: Readable
}

function contentLength (headers: IncomingHttpHeaders): number | null {
  const value = Number(headers['content-length'])
  return Number.isSafeInteger(value) && value >= 0 ? value : null
}

export function normalizeKaleyraBaseUrl (baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '').replace(/\/v2$/, '')
}

export function createKaleyraClient (opts: KaleyraClientOptions) {
  const http = new HttpUpstream({
    target: 'kaleyra',
    baseUrl: normalizeKaleyraBaseUrl(opts.baseUrl),
    timeoutMs: opts.timeoutMs,
    dispatcher: opts.dispatcher,
    defaultHeaders: { apikey: opts.apiKey },
    retries: opts.retries,
    retryDelayMs: opts.retryDelayMs,
    observer: opts.observer
  })

  /** Any status outside `ok` becomes an error: 5xx → 502 (ambiguous for writes), 4xx → rejected. */
  function fail (req: UpstreamRequest, res: JsonResponse): never {
    if (res.statusCode >= 500 || res.statusCode === 429) {
      throw kaleyraStatusError(req.operation, res.statusCode, req.method === 'POST' || req.method === 'PUT')
    }
    throw new KaleyraRejectedError(req.operation, res.statusCode, parseErrorName(res.data))
  }

  async function call (req: UpstreamRequest, ok: number[] = [200, 201]): Promise<JsonResponse> {
    const res = await http.requestJson(req)
    if (!ok.includes(res.statusCode)) fail(req, res)
    return res
  }

  async function listAll<T> (fetchPage: (offset: number, limit: number) => Promise<Page<T>>, limit = 100, maxPages = 1000): Promise<T[]> {
    const items: T[] = []
    for (let page = 0, offset = 0; page < maxPages; page++) {
      const { items: batch, hasMore } = await fetchPage(offset, limit)
      items.push(...batch)
      if (!hasMore || batch.length === 0) return items
      offset += batch.length
    }
    return items
  }

  return {
    http,

    /**
     * Creates a user with our own id. Ids are derived deterministically from the external id,
     * so a retry or a concurrent creation elsewhere answers 409, which means "already there".
     */
    async createUser (userId: string, role: KaleyraRole): Promise<{ userId: string, created: boolean }> {
      const req: UpstreamRequest = { operation: 'createUser', method: 'POST', path: paths.users(), json: { user_id: userId, role }, retry: true }
      const res = await call(req, [200, 201, 409])
      if (res.statusCode === 409) return { userId, created: false }
      const returned = parseUserId(res.data, 'createUser')
      if (returned !== userId) throw new KaleyraFormatError('createUser', res.statusCode)
      return { userId, created: true }
    },

    /** `role` is null when Kaleyra's answer does not say it. */
    async getUser (userId: string): Promise<{ userId: string, role: KaleyraRole | null } | null> {
      const res = await call({ operation: 'getUser', method: 'GET', path: paths.user(userId) }, [200, 404])
      if (res.statusCode === 404) return null
      return { userId: parseUserId(res.data, 'getUser'), role: parseUserRole(res.data) }
    },

    /** Sets a user's role (the same body twice is harmless, hence retried); false when Kaleyra has no such user. */
    async setUserRole (userId: string, role: KaleyraRole): Promise<boolean> {
      const res = await call({ operation: 'setUserRole', method: 'PUT', path: paths.user(userId), json: { role }, retry: true }, [200, 204, 404])
      return res.statusCode !== 404
    },

    /** Never retried: Kaleyra has no idempotency key for rooms (see the reaper for ambiguous failures). */
    async createRoom (room: CreateRoomRequest): Promise<KaleyraRoom> {
      const res = await call({ operation: 'createRoom', method: 'POST', path: paths.rooms(), json: room, retry: false })
      return parseRoom(res.data, 'createRoom')
    },

    async getRoom (roomId: string): Promise<KaleyraRoom | null> {
      const res = await call({ operation: 'getRoom', method: 'GET', path: paths.room(roomId) }, [200, 404])
      return res.statusCode === 404 ? null : parseRoom(res.data, 'getRoom')
    },

    /** Resolves to 'absent' when the room was already gone, which is what a retry after a lost answer sees. */
    async deleteRoom (roomId: string): Promise<'deleted' | 'absent'> {
      const res = await call({ operation: 'deleteRoom', method: 'DELETE', path: paths.room(roomId) }, [200, 202, 204, 404])
      return res.statusCode === 404 ? 'absent' : 'deleted'
    },

    async listRooms (offset: number, limit: number): Promise<Page<KaleyraRoom>> {
      const res = await call({ operation: 'listRooms', method: 'GET', path: paths.rooms(), query: { offset, limit } }, [200])
      return parseRoomList(res.data)
    },

    async listUploadsPage (roomId: string, offset: number, limit: number): Promise<Page<KaleyraUpload>> {
      const res = await call({ operation: 'listUploads', method: 'GET', path: paths.uploads(), query: { room_id: roomId, offset, limit } }, [200])
      return parseUploadList(res.data)
    },

    async listUploads (roomId: string): Promise<KaleyraUpload[]> {
      return await listAll((offset, limit) => this.listUploadsPage(roomId, offset, limit))
    },

    async deleteUpload (key: string): Promise<'deleted' | 'absent'> {
      const res = await call({ operation: 'deleteUpload', method: 'DELETE', path: paths.upload(key) }, [200, 202, 204, 404])
      return res.statusCode === 404 ? 'absent' : 'deleted'
    },

    async createSdkCredentials (userId: string, expiresIn: number): Promise<SdkCredentials> {
      const res = await call({
        operation: 'createSdkCredentials', method: 'POST', path: paths.sdkCredentials(), json: { user_id: userId, expires_in: expiresIn }, retry: true
      })
      return parseSdkCredentials(res.data)
    },

    async getCompany (): Promise<Company> {
      const res = await call({ operation: 'getCompany', method: 'GET', path: paths.company() }, [200])
      return parseCompany(res.data, 'getCompany')
    },

    async updateCompany (backgroundAlias: string): Promise<Company> {
      const res = await call({
        operation: 'updateCompany', method: 'PUT', path: paths.company(), json: { background_alias: backgroundAlias }, retry: true
      }, [200])
      return await this.withBackgroundDetails(parseCompany(res.data, 'updateCompany'))
    },

    /** Kaleyra may name the default background by alias only; its url and date are in the background list. */
    async withBackgroundDetails (company: Company): Promise<Company> {
      const bg = company.defaultBackground
      if (bg === null || (bg.url !== null && bg.creationDate !== null)) return company
      const found = (await this.listVirtualBackgrounds()).find(b => b.alias === bg.alias)
      if (found === undefined) return company
      return { ...company, defaultBackground: { alias: bg.alias, url: found.url, creationDate: found.creationDate } }
    },

    async listVirtualBackgrounds (): Promise<VirtualBackground[]> {
      const res = await call({ operation: 'listVirtualBackgrounds', method: 'GET', path: paths.virtualBackgrounds() }, [200])
      return parseVirtualBackgroundList(res.data)
    },

    /** Streams the file to Kaleyra as it arrives. Never retried: the content can be read only once. */
    async uploadVirtualBackground (file: BackgroundUpload): Promise<VirtualBackground> {
      const { contentType, body } = multipartFileBody({ field: VIRTUAL_BACKGROUND_FIELD, ...file })
      const res = await call({
        operation: 'uploadVirtualBackground', method: 'POST', path: paths.virtualBackground(), body, headers: { 'content-type': contentType }, retry: false
      })
      return parseVirtualBackground(res.data)
    },

    async listSessions (roomId: string): Promise<KaleyraSession[]> {
      return await listAll(async (offset, limit) => {
        const res = await call({ operation: 'listSessions', method: 'GET', path: paths.sessions(), query: { room_id: roomId, offset, limit } }, [200])
        return parseSessionList(res.data)
      })
    },

    /**
     * Readiness: one cheap read with a short deadline, never retried. Any answer but a 5xx means
     * Kaleyra is reachable, except 401/403: then every call would fail, so it counts as down.
     */
    async ping (timeoutMs: number): Promise<KaleyraReachability> {
      let res: UpstreamResponse
      try {
        res = await http.request({ operation: 'ping', method: 'GET', path: paths.company(), retry: false, timeoutMs })
      } catch (err) {
        if (!(err instanceof UpstreamError)) throw err
        return { reachable: false, reason: err.failure === 'timeout' ? `no answer within ${timeoutMs} ms` : 'unreachable' }
      }
      await res.body.dump()
      if (res.statusCode === 401 || res.statusCode === 403) return { reachable: false, reason: `API key refused (${res.statusCode})` }
      if (res.statusCode >= 500) return { reachable: false, reason: `answered ${res.statusCode}` }
      return { reachable: true }
    },

    /** The transcription of a session, unread; null when Kaleyra has none (yet). */
    async openTranscription (sessionId: string): Promise<TranscriptionDownload | null> {
      const req: UpstreamRequest = { operation: 'getTranscription', method: 'GET', path: paths.transcription(sessionId) }
      const res = await http.request(req)
      if (res.statusCode === 200) return { length: contentLength(res.headers), body: res.body }
      await res.body.dump()
      if (res.statusCode === 404) return null
      return fail(req, { statusCode: res.statusCode, headers: res.headers, data: undefined, attempt: res.attempt })
    },

    async close (): Promise<void> {
      await http.close()
    }
  }
}
