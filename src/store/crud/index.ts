import type { FastifyBaseLogger } from 'fastify'
import type { Dispatcher } from 'undici'
import { HttpUpstream, type UpstreamObserver } from '../../upstream/http.js'
import type { Stores } from '../types.js'
import { createCrudCollection } from './client.js'
import { createCrudOutboxStore } from './outbox.js'
import { createCrudIdempotencyStore } from './idempotency.js'
import { createCrudTeleconsultationStore } from './teleconsultations.js'
import { createCrudUserMapStore } from './user-map.js'

export interface CrudStoresOptions {
  /** e.g. `http://crud-service`. */
  baseUrl: string
  timeoutMs: number
  teleconsultationsPath: string
  userMapPath: string
  /** EVENTS_OUTBOX_CRUD_NAME, given only with EVENTS_WEBHOOK_URL: no outbox store otherwise. */
  outboxPath?: string
  /** Collection of the idempotency keys (used only with IDEMPOTENCY_KEYS=true). */
  idempotencyPath?: string
  /** Header carrying the caller's id, from which the CRUD Service fills creatorId/updaterId. */
  userIdHeader: string
  dispatcher?: Dispatcher
  retryDelayMs?: number
  observer?: UpstreamObserver
  log?: FastifyBaseLogger
  lostInsertChecksMs?: number[]
}

/** The stores over one keep-alive pool to the CRUD Service. */
export function createCrudStores (opts: CrudStoresOptions): Stores {
  const http = new HttpUpstream({
    target: 'crud',
    baseUrl: opts.baseUrl,
    timeoutMs: opts.timeoutMs,
    dispatcher: opts.dispatcher,
    retryDelayMs: opts.retryDelayMs,
    observer: opts.observer
  })
  let closing: Promise<void> | undefined
  const onClose = async (): Promise<void> => {
    closing ??= http.close()
    await closing
  }
  const common = { http, userIdHeader: opts.userIdHeader, log: opts.log }
  return {
    teleconsultations: createCrudTeleconsultationStore({
      collection: createCrudCollection({ ...common, path: opts.teleconsultationsPath, label: 'teleconsultations' }),
      log: opts.log,
      lostInsertChecksMs: opts.lostInsertChecksMs,
      onClose
    }),
    userMap: createCrudUserMapStore({
      collection: createCrudCollection({ ...common, path: opts.userMapPath, label: 'userMap' }),
      onClose
    }),
    ...(opts.outboxPath !== undefined
      ? { outbox: createCrudOutboxStore({ collection: createCrudCollection({ ...common, path: opts.outboxPath, label: 'eventOutbox' }), onClose }) }
      : {}),
    idempotency: createCrudIdempotencyStore({
      collection: createCrudCollection({ ...common, path: opts.idempotencyPath ?? 'teleconsultations_idempotency', label: 'idempotency' }),
      onClose
    })
  }
}
