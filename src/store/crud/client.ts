// How the stores talk to one collection of the Mia-Platform CRUD Service: paths, query
// parameters, states and statuses as the CRUD documents them. Nothing here knows a teleconsultation.
import type { FastifyBaseLogger } from 'fastify'
import type { HttpUpstream, JsonResponse, UpstreamRequest } from '../../upstream/http.js'
import { UpstreamError } from '../../upstream/errors.js'
import type { StoreContext } from '../types.js'

export type CrudState = 'PUBLIC' | 'DRAFT' | 'TRASH' | 'DELETED'

/** A document as the CRUD Service answers it: `_id`, metadata and the collection's fields. */
export type CrudDocument = Record<string, unknown> & { _id: string }

export type CrudFilter = Record<string, unknown>

/**
 * The states the service reads: documents it writes are PUBLIC; the original service left them
 * in the collection's default state, DRAFT unless configured otherwise.
 */
export const LIVE_STATES: readonly CrudState[] = ['PUBLIC', 'DRAFT']

export interface ListOptions {
  filter: CrudFilter
  limit: number
  /** e.g. `_id` (oldest first with ObjectIds). */
  sort?: string
  projection?: string[]
  /** Default: the live states. */
  states?: readonly CrudState[]
}

export interface CrudCollectionOptions {
  http: HttpUpstream
  /** Collection path as configured (e.g. `teleconsultations`). */
  path: string
  /** Fixed name used in operation labels (metrics, logs), whatever the configured path. */
  label: string
  /** Header the CRUD Service reads creatorId/updaterId from. */
  userIdHeader: string
  log?: FastifyBaseLogger
}

/**
 * The CRUD's own 404 for a document it does not have (or a filter that does not match). A 404
 * with another body comes from elsewhere, e.g. a collection path the CRUD does not serve.
 */
function isCrudNotFound (res: JsonResponse): boolean {
  return res.statusCode === 404 && (res.data as { error?: unknown } | undefined)?.error === 'not found'
}

function isDocument (value: unknown): value is CrudDocument {
  return typeof value === 'object' && value !== null && !Array.isArray(value) &&
    typeof (value as { _id?: unknown })._id === 'string'
}

/** One collection of the CRUD Service, under `path`; every call is labelled `<label>.<operation>`. */
export class CrudCollection {
  readonly #http: HttpUpstream
  readonly #label: string
  readonly #base: string
  readonly #userIdHeader: string
  readonly #log: FastifyBaseLogger | undefined

  constructor (opts: CrudCollectionOptions) {
    this.#http = opts.http
    this.#label = opts.label
    this.#base = '/' + opts.path.replace(/^\/+|\/+$/g, '')
    this.#userIdHeader = opts.userIdHeader.toLowerCase()
    this.#log = opts.log
  }

  /** `POST /` with `__STATE__: PUBLIC`; resolves to the new `_id`, or `duplicate` on a unique-index violation. */
  async insert (doc: Record<string, unknown>, ctx?: StoreContext): Promise<{ id: string } | 'duplicate'> {
    const req: UpstreamRequest = {
      operation: `${this.#label}.insert`,
      method: 'POST',
      path: `${this.#base}/`,
      json: { ...doc, __STATE__: 'PUBLIC' },
      headers: this.#headers(ctx),
      retry: false
    }
    const res = await this.#http.requestJson(req)
    if (res.statusCode === 409) return 'duplicate'
    if (res.statusCode !== 200 && res.statusCode !== 201) throw this.#unexpected(req, res, ctx)
    const id = (res.data as { _id?: unknown } | undefined)?._id
    if (typeof id !== 'string') throw formatError(req, res)
    return { id }
  }

  /** `GET /:id` among the live states; null on the CRUD's 404 (or a 400 for an id it cannot parse). */
  async getById (id: string, ctx?: StoreContext): Promise<CrudDocument | null> {
    const req: UpstreamRequest = {
      operation: `${this.#label}.get`,
      method: 'GET',
      path: this.#itemPath(id),
      query: { _st: LIVE_STATES.join(',') },
      headers: this.#headers(ctx)
    }
    const res = await this.#http.requestJson(req)
    if (isCrudNotFound(res) || res.statusCode === 400) return null
    if (res.statusCode !== 200) throw this.#unexpected(req, res, ctx)
    if (!isDocument(res.data)) throw formatError(req, res)
    return res.data
  }

  /** `GET /` (trailing slash) with `_q`, `_st`, `_l` and optionally `_s` and `_p`. */
  async list (options: ListOptions, ctx?: StoreContext): Promise<CrudDocument[]> {
    const req: UpstreamRequest = {
      operation: `${this.#label}.list`,
      method: 'GET',
      path: `${this.#base}/`,
      query: {
        _q: JSON.stringify(options.filter),
        _st: (options.states ?? LIVE_STATES).join(','),
        _l: options.limit,
        _s: options.sort,
        _p: options.projection?.join(',')
      },
      headers: this.#headers(ctx)
    }
    const res = await this.#http.requestJson(req)
    if (res.statusCode !== 200) throw this.#unexpected(req, res, ctx)
    if (!Array.isArray(res.data) || !res.data.every(isDocument)) throw formatError(req, res)
    return res.data
  }

  /**
   * `PATCH /:id?_q=<filter>` with update operators; resolves to the updated document, or null on
   * the CRUD's 404 (no live document with that id matches the filter). Retried on network errors
   * and 5xx only when the caller says the update is idempotent; `retried` then tells that an
   * earlier attempt, whose answer was lost, may have been applied.
   */
  async patchById (
    id: string,
    update: Record<string, unknown>,
    filter: CrudFilter,
    ctx: StoreContext | undefined,
    idempotent: boolean,
    states: readonly CrudState[] = LIVE_STATES
  ): Promise<{ doc: CrudDocument | null; retried: boolean }> {
    const req: UpstreamRequest = {
      operation: `${this.#label}.update`,
      method: 'PATCH',
      path: this.#itemPath(id),
      query: { _q: JSON.stringify(filter), _st: states.join(',') },
      json: update,
      headers: this.#headers(ctx),
      retry: idempotent
    }
    const res = await this.#http.requestJson(req)
    const retried = res.attempt > 1
    if (isCrudNotFound(res)) return { doc: null, retried }
    if (res.statusCode !== 200) throw this.#unexpected(req, res, ctx)
    if (!isDocument(res.data)) throw formatError(req, res)
    return { doc: res.data, retried }
  }

  /**
   * `POST /:id/state` `{ stateTo }`. Retried: moving to TRASH twice is harmless, and a 404 on a
   * later attempt means an earlier one (whose answer was lost) already did it.
   */
  async setState (id: string, stateTo: CrudState, ctx?: StoreContext): Promise<'changed' | 'absent'> {
    const req: UpstreamRequest = {
      operation: `${this.#label}.setState`,
      method: 'POST',
      path: `${this.#itemPath(id)}/state`,
      json: { stateTo },
      headers: this.#headers(ctx),
      retry: true
    }
    const res = await this.#http.requestJson(req)
    if (res.statusCode === 204 || res.statusCode === 200) return 'changed'
    if (isCrudNotFound(res)) return res.attempt > 1 ? 'changed' : 'absent'
    throw this.#unexpected(req, res, ctx)
  }

  /** A cheap call that fails when the CRUD Service or this collection is not there. */
  async ping (): Promise<void> {
    const req: UpstreamRequest = {
      operation: `${this.#label}.ping`, method: 'GET', path: `${this.#base}/`, query: { _l: 1, _p: '_id' }, retry: false
    }
    const res = await this.#http.requestJson(req)
    if (res.statusCode !== 200) throw this.#unexpected(req, res)
  }

  /** The request's platform headers (x-request-id, caller, groups…); the caller's id as the CRUD's user id. */
  #headers (ctx?: StoreContext): Record<string, string | undefined> {
    const userIdHeader = this.#userIdHeader
    return { ...ctx?.platformHeaders, [userIdHeader]: ctx?.callerId ?? ctx?.platformHeaders?.[userIdHeader] }
  }

  #itemPath (id: string): string {
    return `${this.#base}/${encodeURIComponent(id)}`
  }

  /** An answer we did not expect. A 5xx to a write may hide an applied change: marked ambiguous. */
  #unexpected (req: UpstreamRequest, res: JsonResponse, ctx?: StoreContext): UpstreamError {
    const write = req.method !== 'GET'
    const log = ctx?.log ?? this.#log
    if (res.statusCode === 404) {
      log?.error({ operation: req.operation }, 'the CRUD Service does not serve this collection path: check TELECONSULTATIONS_CRUD_NAME and USER_ID_MAP_CRUD_NAME')
    } else if (res.statusCode === 400) {
      // The CRUD names the offending field (e.g. a field missing from the collection schema); no values.
      const data = res.data as { message?: unknown } | undefined
      const message = typeof data?.message === 'string' ? data.message.slice(0, 300) : undefined
      log?.error(
        { operation: req.operation, crudMessage: message },
        'the CRUD Service refused the request: check the collection fields (docs/crud-collections.md)'
      )
    }
    return new UpstreamError({
      target: 'crud',
      operation: req.operation,
      failure: 'status',
      upstreamStatus: res.statusCode,
      ambiguous: write && res.statusCode >= 500
    })
  }
}

function formatError (req: UpstreamRequest, res: JsonResponse): UpstreamError {
  return new UpstreamError({
    target: 'crud', operation: req.operation, failure: 'format', upstreamStatus: res.statusCode
  })
}

export function createCrudCollection (opts: CrudCollectionOptions): CrudCollection {
  return new CrudCollection(opts)
}
