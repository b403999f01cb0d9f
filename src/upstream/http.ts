// The single HTTP client of the service: every call to Kaleyra, the CRUD Service and the
// identity service goes through here (keep-alive pool per origin, deadline, retries, metrics hook).
import type { IncomingHttpHeaders } from 'node:http'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Dispatcher } from 'undici'
import { UpstreamError, type UpstreamTarget } from './errors.js'

export type StatusClass = '2xx' | '3xx' | '4xx' | '5xx' | 'timeout' | 'network'

export interface UpstreamCallEvent {
  target: UpstreamTarget
  operation: string
  method: string
  statusClass: StatusClass
  durationSeconds: number
  attempt: number
}

export type UpstreamObserver = (event: UpstreamCallEvent) => void

export interface HttpUpstreamOptions {
  target: UpstreamTarget
  /** Origin plus optional base path, e.g. `http://crud-service` or `https://api.eu.bandyer.com`. */
  baseUrl: string
  timeoutMs: number
  /** Tests inject an undici MockAgent or a dispatcher of their own; by default a private keep-alive Agent. */
  dispatcher?: Dispatcher
  /** Connections of the private pool of the other calls (default 64). */
  connections?: number
  /**
   * Connections of the separate pool that carries streamed bodies (uploads, sent at the pace of
   * their client), so slow clients can never take the connections of the other calls (default 16).
   * An injected dispatcher serves both.
   */
  streamConnections?: number
  /** Headers of every request to the base origin (credentials): never sent to another origin. */
  defaultHeaders?: Record<string, string>
  /** user-agent of every request (default: undici's). */
  userAgent?: string
  /** Extra attempts for retryable calls (default 2). */
  retries?: number
  /** First backoff delay; it doubles on every attempt and carries ±50% jitter (default 100 ms). */
  retryDelayMs?: number
  observer?: UpstreamObserver
}

export interface UpstreamRequest {
  operation: string
  method: Dispatcher.HttpMethod
  path: string
  /**
   * An absolute URL (a link an upstream answered) called instead of the base URL + path + query
   * (which are then ignored). The default headers go with it only when it is on the base origin.
   */
  url?: string
  query?: Record<string, string | number | boolean | undefined>
  json?: unknown
  body?: Dispatcher.DispatchOptions['body']
  headers?: Record<string, string | undefined>
  /**
   * Retry on network errors, 429 and 5xx (after their Retry-After when it fits in the deadline).
   * Defaults to true for GET, HEAD and DELETE only.
   */
  retry?: boolean
  timeoutMs?: number
}

export interface UpstreamResponse {
  statusCode: number
  headers: IncomingHttpHeaders
  body: Dispatcher.ResponseData['body']
  /** Which attempt answered (1 = the first): a later one may see the effect of an earlier lost answer. */
  attempt: number
}

export interface JsonResponse {
  statusCode: number
  headers: IncomingHttpHeaders
  /** Parsed JSON, or undefined when the body is empty or not JSON. */
  data: unknown
  attempt: number
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504])
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'])
// Errors raised before a single byte of the request could reach the server.
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'])
const MAX_JSON_BYTES = 4 * 1024 * 1024
/** How long close() lets calls in flight end before cutting them. */
export const CLOSE_GRACE_MS = 250

function statusClass (status: number): StatusClass {
  if (status < 300) return '2xx'
  if (status < 400) return '3xx'
  if (status < 500) return '4xx'
  return '5xx'
}

/** A Retry-After header (delta-seconds or an HTTP date) in milliseconds from now; null when absent or unreadable. */
export function retryAfterMs (value: string | string[] | undefined, now = Date.now()): number | null {
  const text = (Array.isArray(value) ? value[0] : value)?.trim()
  if (text === undefined || text === '') return null
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000
  // Every HTTP-date form starts with the day name (`Sun, 06 Nov 1994 08:49:37 GMT`).
  if (!/^[A-Za-z]{3}/.test(text)) return null
  const date = Date.parse(text)
  return Number.isNaN(date) ? null : Math.max(0, date - now)
}

function errorCode (err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code
  return undefined
}

type Undici = typeof import('undici')
let undici: Undici | undefined

/** undici is loaded by the first upstream call: a process that has made none has not paid for it. */
async function loadUndici (): Promise<Undici> {
  return (undici ??= await import('undici'))
}

const KEEP_ALIVE = { keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000 }

export class HttpUpstream {
  readonly target: UpstreamTarget
  readonly #origin: string
  readonly #basePath: string
  readonly #injected: Dispatcher | undefined
  readonly #connections: number
  readonly #streamConnections: number
  // The private pools, each created by its first call.
  #calls: Dispatcher | undefined
  #streams: Dispatcher | undefined
  #closed = false
  readonly #timeoutMs: number
  readonly #defaultHeaders: Record<string, string>
  readonly #userAgent: string | undefined
  readonly #retries: number
  readonly #retryDelayMs: number
  readonly #observer: UpstreamObserver | undefined

  constructor (opts: HttpUpstreamOptions) {
    const base = new URL(opts.baseUrl)
    this.target = opts.target
    this.#origin = base.origin
    this.#basePath = base.pathname.replace(/\/+$/, '')
    this.#injected = opts.dispatcher
    this.#connections = opts.connections ?? 64
    this.#streamConnections = opts.streamConnections ?? 16
    this.#timeoutMs = opts.timeoutMs
    this.#defaultHeaders = opts.defaultHeaders ?? {}
    this.#userAgent = opts.userAgent
    this.#retries = opts.retries ?? 2
    this.#retryDelayMs = opts.retryDelayMs ?? 100
    this.#observer = opts.observer
  }

  url (path: string, query?: UpstreamRequest['query']): string {
    const url = new URL(this.#basePath + path, this.#origin)
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value))
    }
    return url.toString()
  }

  /**
   * Sends the request; the caller must consume or dump the body. Throws UpstreamError on timeout or network failure.
   */
  async request (req: UpstreamRequest): Promise<UpstreamResponse> {
    const retryable = req.retry ?? (req.method === 'GET' || req.method === 'HEAD' || req.method === 'DELETE')
    const attempts = retryable ? this.#retries + 1 : 1
    const deadline = Date.now() + (req.timeoutMs ?? this.#timeoutMs)
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= attempts
      try {
        const res = await this.#once(req, attempt, deadline)
        if (!last && RETRYABLE_STATUS.has(res.statusCode)) {
          const asked = retryAfterMs(res.headers['retry-after'])
          // A wait the upstream asked for is honoured within the call's deadline, never past it:
          // then the caller gets this answer.
          if (asked !== null && Date.now() + asked >= deadline) return res
          await res.body.dump()
          await (asked !== null ? sleep(asked) : this.#backoff(attempt))
          continue
        }
        return res
      } catch (err) {
        if (last || !(err instanceof UpstreamError) || err.failure !== 'network') throw err
        await this.#backoff(attempt)
      }
    }
  }

  /** Sends the request and reads a JSON body (bounded). */
  async requestJson (req: UpstreamRequest): Promise<JsonResponse> {
    const res = await this.request(req)
    const text = await this.#readText(res, req.operation)
    let data: unknown
    if (text.length > 0) {
      try { data = JSON.parse(text) } catch { data = undefined }
    }
    return { statusCode: res.statusCode, headers: res.headers, data, attempt: res.attempt }
  }

  /**
   * Closes the pools: calls still in flight get CLOSE_GRACE_MS to end, then are cut (shutdown is
   * bounded; what a cut call left undone is finished by the background sweep, here or elsewhere).
   */
  async close (): Promise<void> {
    this.#closed = true
    const pools = [this.#calls, this.#streams].filter(pool => pool !== undefined)
    if (pools.length === 0) return
    const closed = Promise.all(pools.map(async pool => { await pool.close() }))
    closed.catch(() => {})
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<boolean>(resolve => { timer = setTimeout(() => resolve(true), CLOSE_GRACE_MS) })
    const cut = await Promise.race([closed.then(() => false), late])
    clearTimeout(timer)
    if (cut) await Promise.allSettled(pools.map(async pool => { await pool.destroy() }))
  }

  async #readText (res: UpstreamResponse, operation: string): Promise<string> {
    const chunks: Buffer[] = []
    let size = 0
    try {
      // A body whose announced length is within the bound is read whole (undici holds the
      // connection to that length); only one of unknown length is counted chunk by chunk.
      const length = Number(res.headers['content-length'])
      if (Number.isInteger(length) && length <= MAX_JSON_BYTES) return await res.body.text()
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length
        if (size > MAX_JSON_BYTES) {
          res.body.destroy()
          throw new UpstreamError({ target: this.target, operation, failure: 'format', upstreamStatus: res.statusCode })
        }
        chunks.push(chunk as Buffer)
      }
    } catch (err) {
      if (err instanceof UpstreamError) throw err
      throw this.#networkError(err, operation, true)
    }
    return Buffer.concat(chunks).toString('utf8')
  }

  /**
   * One attempt, within what is left of the call's deadline: the deadline counts from the call,
   * retries, backoff and any wait for a pooled connection included (the abort reaches a queued request).
   */
  async #once (req: UpstreamRequest, attempt: number, deadline: number): Promise<UpstreamResponse> {
    const streamed = req.body instanceof Readable
    const timeoutMs = streamed ? (req.timeoutMs ?? this.#timeoutMs) : Math.max(1, deadline - Date.now())
    const address = req.url ?? this.url(req.path, req.query)
    // Credentials stay on the origin they belong to: a link to another host gets none of them.
    const ownOrigin = req.url === undefined || new URL(address).origin === this.#origin
    const headers: Record<string, string> = ownOrigin ? { ...this.#defaultHeaders } : {}
    if (this.#userAgent !== undefined) headers['user-agent'] = this.#userAgent
    for (const [key, value] of Object.entries(req.headers ?? {})) if (value !== undefined) headers[key] = value
    let body = req.body
    if (req.json !== undefined) {
      body = JSON.stringify(req.json)
      headers['content-type'] = 'application/json'
    }
    headers.accept ??= 'application/json'

    const controller = new AbortController()
    let timedOut = false
    let timer: NodeJS.Timeout | undefined
    const startDeadline = (): void => { timer = setTimeout(() => { timedOut = true; controller.abort() }, timeoutMs) }
    if (body instanceof Readable) {
      // A streamed body goes out at the pace of its source (a client's upload): the deadline counts
      // from its last byte. Meanwhile undici's headersTimeout still fires if the server stops reading.
      const source = body
      body = Readable.from((async function * () {
        yield * source
        startDeadline()
      })(), { objectMode: false })
    } else {
      startDeadline()
    }
    const started = process.hrtime.bigint()
    const observe = (cls: StatusClass): void => {
      this.#observer?.({
        target: this.target,
        operation: req.operation,
        method: req.method,
        statusClass: cls,
        durationSeconds: Number(process.hrtime.bigint() - started) / 1e9,
        attempt
      })
    }
    try {
      const loaded = undici ?? await loadUndici()
      const dispatcher = this.#dispatcher(loaded, streamed)
      const res = await loaded.request(address, {
        method: req.method,
        headers,
        body,
        dispatcher,
        signal: controller.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs
      })
      observe(statusClass(res.statusCode))
      return { statusCode: res.statusCode, headers: res.headers, body: res.body, attempt }
    } catch (err) {
      const code = errorCode(err)
      if (timedOut || (code !== undefined && TIMEOUT_CODES.has(code))) {
        observe('timeout')
        throw new UpstreamError({ target: this.target, operation: req.operation, failure: 'timeout', ambiguous: true, code: 'deadline exceeded' })
      }
      observe('network')
      throw this.#networkError(err, req.operation, code === undefined || !NOT_SENT_CODES.has(code))
    } finally {
      clearTimeout(timer)
    }
  }

  #dispatcher ({ Agent, errors }: Undici, streamed: boolean): Dispatcher {
    if (this.#injected !== undefined) return this.#injected
    // After close(), a call fails as it would on the closed pool.
    if (this.#closed) throw new errors.ClientClosedError()
    return streamed
      ? (this.#streams ??= new Agent({ ...KEEP_ALIVE, connections: this.#streamConnections }))
      : (this.#calls ??= new Agent({ ...KEEP_ALIVE, connections: this.#connections }))
  }

  #networkError (err: unknown, operation: string, ambiguous: boolean): UpstreamError {
    const code = errorCode(err)
    if (code !== undefined && TIMEOUT_CODES.has(code)) {
      return new UpstreamError({ target: this.target, operation, failure: 'timeout', ambiguous: true, code: 'deadline exceeded' })
    }
    return new UpstreamError({ target: this.target, operation, failure: 'network', ambiguous, code: code ?? 'connection error' })
  }

  async #backoff (attempt: number): Promise<void> {
    const base = Math.min(this.#retryDelayMs * 2 ** (attempt - 1), 2_000)
    await sleep(base * (0.5 + Math.random()))
  }
}
