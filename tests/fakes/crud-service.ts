// A contract fake of the Mia-Platform CRUD Service (test-only): a real HTTP server on 127.0.0.1
// answering the routes, query parameters, states, statuses and bodies the CRUD documents, with
// injected faults (latency, statuses, resets, hangs) like the Kaleyra emulator.
import { randomBytes } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { isDeepStrictEqual } from 'node:util'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { installFaultHooks, Lifecycle } from '../../src/emulator/fault-hooks.js'
import { FaultList, type FaultRule } from '../../src/emulator/faults.js'
import { applyUpdate, CrudBadRequest, filterFields, matches, project, sortDocs, UPDATE_OPERATORS, type Doc } from './crud-query.js'

export type CrudState = 'PUBLIC' | 'DRAFT' | 'TRASH' | 'DELETED'
const STATES: readonly CrudState[] = ['PUBLIC', 'DRAFT', 'TRASH', 'DELETED']
/** From which states a document may move to each state. */
const SOURCES: Record<CrudState, CrudState[]> = { PUBLIC: ['DRAFT'], DRAFT: ['PUBLIC', 'TRASH'], TRASH: ['PUBLIC', 'DRAFT', 'DELETED'], DELETED: ['TRASH'] }
const SYSTEM_FIELDS = ['_id', 'creatorId', 'createdAt', 'updaterId', 'updatedAt', '__STATE__']
const INVALID_USER_IDS = ['', 'null', 'undefined']

export interface FakeCollection {
  /** The collection's own fields: writes or filters naming others are refused (400). Any field when omitted. */
  fields?: string[]
  /** Fields with a unique index: a second document with the same value is refused (409). */
  unique?: string[]
  /** State of documents inserted without `__STATE__` (default DRAFT, like the CRUD). */
  defaultState?: CrudState
}

export interface FakeCrudOptions {
  collections: Record<string, FakeCollection>
  /** Header the creatorId/updaterId come from (default `miauserid`). */
  userIdHeader?: string
  /** CRUD_MAX_LIMIT (default 200). */
  maxLimit?: number
}

export interface CrudRequest {
  method: string
  path: string
  query: Record<string, string>
  body: unknown
  userId: string | undefined
  headers: IncomingHttpHeaders
  status: number
}

export interface FakeCrudService {
  readonly url: string
  close: () => Promise<void>
  /**
   * `whenSeen` adds a rule once a request matching `trigger` arrives (it applies from that request on, after earlier
   * rules).
   */
  faults: {
    add: (rule: FaultRule) => void
    clear: () => void
    whenSeen: (trigger: { method?: string; path?: string }, rule: FaultRule) => void
  }
  /** Every document of the collection in every state, as stored. */
  documents: (collection: string) => Doc[]
  document: (collection: string, id: string) => Doc | undefined
  /** Stores documents as given (e.g. as the original service wrote them); fills `_id` and `__STATE__` when absent. */
  seed: (collection: string, docs: Doc[]) => string[]
  /** Every request in arrival order; status 0 = no answer (reset, hang). */
  requests: () => CrudRequest[]
}

interface ListQuery {
  filter: Doc
  states: CrudState[]
  limit: number
  skip: number
  sort: string[]
  projection: string[] | undefined
}

// ObjectIds like MongoDB's: seconds, a per-process random part and a counter, so `_s=_id` is insertion order.
const PROCESS_PART = randomBytes(5).toString('hex')
let counter = randomBytes(3).readUIntBE(0, 3)
function newId (): string {
  counter = (counter + 1) % 0x1000000
  return Math.floor(Date.now() / 1000).toString(16).padStart(8, '0') + PROCESS_PART + counter.toString(16).padStart(6, '0')
}
const bad = (message: string): CrudBadRequest => new CrudBadRequest(message)

export async function startFakeCrudService (opts: FakeCrudOptions): Promise<FakeCrudService> {
  const userIdHeader = (opts.userIdHeader ?? 'miauserid').toLowerCase()
  const maxLimit = opts.maxLimit ?? 200
  const store = new Map<string, Doc[]>(Object.keys(opts.collections).map(name => [name, []]))
  const log: CrudRequest[] = []
  const faults = new FaultList()
  const lifecycle = new Lifecycle()
  const entries = new WeakMap<object, CrudRequest>()
  const triggers: Array<{ trigger: { method?: string, path?: string }, rule: FaultRule }> = []
  const app = Fastify({ routerOptions: { ignoreTrailingSlash: false } })

  app.addHook('onRequest', async request => {
    const at = request.url.indexOf('?')
    const header = request.headers[userIdHeader]
    const entry: CrudRequest = {
      method: request.method,
      path: at === -1 ? request.url : request.url.slice(0, at),
      query: Object.fromEntries(new URLSearchParams(at === -1 ? '' : request.url.slice(at + 1))),
      body: undefined,
      userId: typeof header === 'string' ? header : undefined,
      headers: request.headers,
      status: 0
    }
    log.push(entry)
    entries.set(request.raw, entry)
    for (const armed of [...triggers]) {
      if ((armed.trigger.method ?? entry.method) === entry.method && entry.path.startsWith(armed.trigger.path ?? '')) {
        triggers.splice(triggers.indexOf(armed), 1)
        faults.add(armed.rule)
      }
    }
  })
  app.addHook('preValidation', async request => {
    const entry = entries.get(request.raw)
    if (entry !== undefined) entry.body = structuredClone(request.body)
  })
  installFaultHooks(app, {
    faults,
    lifecycle,
    applies: () => true,
    injectedBody: { statusCode: 500, error: 'Internal Server Error', message: 'injected fault' },
    onAnswer: (request, status) => {
      const entry = entries.get(request.raw)
      if (entry !== undefined) entry.status = status
    }
  })

  // Inside a collection's prefix the CRUD answers its own 404; elsewhere Fastify's default one.
  app.setNotFoundHandler(async (request, reply) => {
    if (Object.keys(opts.collections).some(name => request.url.startsWith(`/${name}`))) return await reply.code(404).send({ error: 'not found' })
    return await reply.code(404).send({ message: `Route ${request.method}:${request.url} not found`, error: 'Not Found', statusCode: 404 })
  })
  app.setErrorHandler(async (err: Error & { statusCode?: number }, _request, reply) => {
    const status = err instanceof CrudBadRequest ? 400 : err.statusCode ?? 500
    return await reply.code(status).send({ statusCode: status, error: status === 400 ? 'Bad Request' : 'Error', message: err.message })
  })

  for (const [name, collection] of Object.entries(opts.collections)) {
    const docs = (): Doc[] => store.get(name) as Doc[]
    const known = (field: string): boolean =>
      collection.fields === undefined || SYSTEM_FIELDS.includes(field) || collection.fields.includes(field)

    function userOf (request: FastifyRequest): string {
      const value = request.headers[userIdHeader]
      return typeof value === 'string' && !INVALID_USER_IDS.includes(value) ? value : 'public'
    }

    function readQuery (request: FastifyRequest, defaults: { limit: number }): ListQuery {
      const query = request.query as Record<string, string | string[]>
      const one = (key: string): string | undefined => {
        const v = query[key]
        return Array.isArray(v) ? v[v.length - 1] : v
      }
      let filter: Doc = {}
      const q = one('_q')
      if (q !== undefined) {
        try { filter = JSON.parse(q) } catch { throw bad('_q must be JSON') }
        if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) throw bad('_q must be a JSON object')
      }
      const equalities: Doc[] = []
      for (const key of Object.keys(query)) {
        if (['_q', '_st', '_l', '_sk', '_s', '_p', '_useEstimate'].includes(key)) continue
        if (key.startsWith('_') && key !== '_id') throw bad(`querystring must NOT have additional properties: ${key}`)
        equalities.push({ [key]: one(key) })
      }
      if (equalities.length > 0) filter = { $and: [filter, ...equalities].filter(f => Object.keys(f).length > 0) }
      for (const field of filterFields(filter)) if (!known(field)) throw bad(`Unknown field: ${field}`)
      const states = (one('_st') ?? 'PUBLIC').split(',').map(s => s.trim())
      for (const state of states) if (!STATES.includes(state as CrudState)) throw bad(`querystring/_st must match pattern: ${state}`)
      const int = (key: string, min: number, fallback: number): number => {
        const raw = one(key)
        if (raw === undefined) return fallback
        if (!/^\d+$/.test(raw) || Number(raw) < min) throw bad(`querystring/${key} must be >= ${min}`)
        return Number(raw)
      }
      const limit = int('_l', 1, defaults.limit)
      if (limit > maxLimit) throw bad(`querystring/_l must be <= ${maxLimit}`)
      const sort = query._s === undefined ? [] : Array.isArray(query._s) ? query._s : [query._s]
      const p = one('_p')
      return { filter, states: states as CrudState[], limit, skip: int('_sk', 0, 0), sort, projection: p === undefined ? undefined : p.split(',') }
    }

    function select (query: ListQuery): Doc[] {
      return docs().filter(d => query.states.includes(d.__STATE__ as CrudState) && matches(d, query.filter))
    }

    function byId (id: string): Doc | undefined {
      return docs().find(d => d._id === id)
    }

    function checkUnique (doc: Doc): void {
      for (const field of collection.unique ?? []) {
        if (doc[field] === undefined) continue
        if (docs().some(other => other._id !== doc._id && isDeepStrictEqual(other[field], doc[field]))) {
          const err = new Error(`E11000 duplicate key error collection: crud.${name} index: ${field}_1 dup key: { ${field}: ${JSON.stringify(doc[field])} }`) as Error & { statusCode: number }
          err.statusCode = 409
          throw err
        }
      }
    }

    const base = `/${name}`
    app.get(`${base}/`, async request => {
      const query = readQuery(request, { limit: maxLimit })
      return sortDocs(select(query), query.sort)
        .slice(query.skip, query.skip + query.limit)
        .map(d => project(d, query.projection))
    })

    app.get(`${base}/count`, async request => {
      const query = readQuery(request, { limit: maxLimit })
      return (request.query as Record<string, string>)._useEstimate === 'true' ? docs().length : select(query).length
    })

    app.get(`${base}/:id`, async (request, reply: FastifyReply) => {
      const query = readQuery(request, { limit: 1 })
      const doc = byId((request.params as { id: string }).id)
      if (doc === undefined || !query.states.includes(doc.__STATE__ as CrudState) || !matches(doc, query.filter)) return await reply.code(404).send({ error: 'not found' })
      return project(doc, query.projection)
    })

    app.post(`${base}/`, async request => {
      const body = request.body
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('body must be object')
      for (const key of Object.keys(body)) {
        if (key === '__STATE__') continue
        if (key.startsWith('$') || SYSTEM_FIELDS.includes(key) || !known(key)) {
          throw bad(`body must NOT have additional properties. Property "${key}" is not defined in validation schema`)
        }
      }
      const state = (body as Doc).__STATE__ ?? collection.defaultState ?? 'DRAFT'
      if (!STATES.includes(state as CrudState)) throw bad('body/__STATE__ must be equal to one of the allowed values')
      const now = new Date().toISOString()
      const user = userOf(request)
      const doc: Doc = {
        ...structuredClone(body as Doc),
        _id: newId(),
        __STATE__: state,
        creatorId: user,
        createdAt: now,
        updaterId: user,
        updatedAt: now
      }
      checkUnique(doc)
      docs().push(doc)
      return { _id: doc._id }
    })

    app.patch(`${base}/:id`, async (request, reply: FastifyReply) => {
      const update = request.body
      if (typeof update !== 'object' || update === null || Array.isArray(update) || Object.keys(update).length === 0) throw bad('body must be a non-empty object')
      for (const [op, fields] of Object.entries(update)) {
        if (!UPDATE_OPERATORS.has(op)) throw bad(`body must NOT have additional properties. Property "${op}" is not defined in validation schema`)
        for (const path of Object.keys(fields as Doc)) {
          const field = path.split('.')[0]
          if (SYSTEM_FIELDS.includes(field)) throw bad(`You cannot edit "${field}" field`)
          if (!known(field)) throw bad('Unknown fields')
        }
      }
      const query = readQuery(request, { limit: 1 })
      const doc = byId((request.params as { id: string }).id)
      if (doc === undefined || !query.states.includes(doc.__STATE__ as CrudState) || !matches(doc, query.filter)) return await reply.code(404).send({ error: 'not found' })
      const now = new Date().toISOString()
      const next = { ...applyUpdate(doc, update as Doc, now), updaterId: userOf(request), updatedAt: now }
      checkUnique(next)
      docs().splice(docs().indexOf(doc), 1, next)
      return next
    })

    app.delete(`${base}/:id`, async (request, reply: FastifyReply) => {
      const query = readQuery(request, { limit: 1 })
      const doc = byId((request.params as { id: string }).id)
      if (doc === undefined || !query.states.includes(doc.__STATE__ as CrudState) || !matches(doc, query.filter)) return await reply.code(404).send({ error: 'not found' })
      docs().splice(docs().indexOf(doc), 1)
      return await reply.code(204).send()
    })

    app.post(`${base}/:id/state`, async (request, reply: FastifyReply) => {
      const stateTo = (request.body as { stateTo?: unknown } | null)?.stateTo
      if (!STATES.includes(stateTo as CrudState)) throw bad('body/stateTo must be equal to one of the allowed values')
      const doc = byId((request.params as { id: string }).id)
      if (doc === undefined || !SOURCES[stateTo as CrudState].includes(doc.__STATE__ as CrudState)) return await reply.code(404).send({ error: 'not found' })
      Object.assign(doc, { __STATE__: stateTo, updaterId: userOf(request), updatedAt: new Date().toISOString() })
      return await reply.code(204).send()
    })
  }

  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address() as AddressInfo
  const collectionOf = (name: string): Doc[] => {
    const docs = store.get(name)
    if (docs === undefined) throw new Error(`no collection ${name} in the fake CRUD`)
    return docs
  }
  let closed: Promise<void> | undefined
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: async () => {
      closed ??= (async () => { lifecycle.close(); await app.close() })()
      await closed
    },
    faults: {
      add: rule => faults.add(rule),
      clear: () => { faults.clear(); triggers.length = 0 },
      whenSeen: (trigger, rule) => { triggers.push({ trigger, rule }) }
    },
    documents: name => structuredClone(collectionOf(name)),
    document: (name, id) => structuredClone(collectionOf(name).find(d => d._id === id)),
    seed: (name, docs) => docs.map(doc => {
      const stored = { ...structuredClone(doc), _id: doc._id ?? newId(), __STATE__: doc.__STATE__ ?? 'DRAFT' }
      collectionOf(name).push(stored)
      return stored._id as string
    }),
    requests: () => log.map(entry => structuredClone(entry))
  }
}
