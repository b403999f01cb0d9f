import type { FastifyBaseLogger } from 'fastify'
import type { Dispatcher } from 'undici'
import type { AppConfig } from './config/index.js'
import { crudBaseUrl } from './config/env.js'
import { createCredentialsService, type CredentialsService } from './credentials/service.js'
import { createAuthorization, type Authorization } from './identity/authorization.js'
import { createAuthServiceIdentityProvider } from './identity/auth-service-provider.js'
import { createHeaderIdentityProvider } from './identity/header-provider.js'
import { createKaleyraUsers } from './identity/kaleyra-users.js'
import type { IdentityProvider } from './identity/types.js'
import { createKaleyraClient, type KaleyraClient } from './kaleyra/client.js'
import { createReadinessCheck, type ReadinessCheck } from './platform/readiness.js'
import { createSettingsService, type SettingsService } from './settings/service.js'
import { createCrudStores, type CrudStoresOptions } from './store/crud/index.js'
import { createMemoryStores } from './store/memory.js'
import type { Stores } from './store/types.js'
import type { TeleconsultationEvents } from './teleconsultations/events.js'
import { createRoomCloser, type RoomCloser, type RoomCloserOptions } from './teleconsultations/closer.js'
import { createIdempotency, type Idempotency } from './teleconsultations/idempotency.js'
import { createRoomReaper, type ReaperOptions, type RoomReaper } from './teleconsultations/reaper.js'
import { createTeleconsultationService, type TeleconsultationService } from './teleconsultations/service.js'
import { createTranscriptionService, type TranscriptionService } from './transcription/service.js'
import type { UpstreamObserver } from './upstream/http.js'
import { NO_EVENTS, type EventPublisher, type IntegrationObserver } from './events/types.js'
import { createKaleyraWebhookService, type KaleyraWebhookService } from './webhooks/service.js'

/** Replaceable parts of the services, for tests and for the demo. */
export interface ServiceOverrides {
  /** undici dispatcher for Kaleyra calls (e.g. a MockAgent). */
  kaleyraDispatcher?: Dispatcher
  /** Backoff base of Kaleyra retries (tests shorten it). */
  kaleyraRetryDelayMs?: number
  /** Told about every upstream call (Kaleyra, CRUD, identity). */
  upstreamObserver?: UpstreamObserver
  stores?: Stores
  /** Test knobs of the CRUD stores (built when CRUD_SERVICE_URL/CRUD_SERVICE is set and `stores` is not given). */
  crud?: Pick<CrudStoresOptions, 'dispatcher' | 'retryDelayMs' | 'lostInsertChecksMs'>
  identity?: IdentityProvider
  reaper?: ReaperOptions
  closer?: RoomCloserOptions
  /** Delays between attempts to apply a Kaleyra webhook the store could not take. */
  webhookRetryDelaysMs?: number[]
  /** The clock of the service: immutability windows and how long cached answers are reused (tests fix it). */
  now?: () => number
}

/** What the services report to: the app's logger (work no request started) and the lifecycle's watcher. */
export interface ServiceHost {
  log: FastifyBaseLogger
  events?: TeleconsultationEvents
  integrations?: IntegrationObserver
}

/** Everything the routes and the process need, built once per app. */
export interface Services {
  kaleyra: KaleyraClient
  stores: Stores
  identity: IdentityProvider
  /** WRITE_GROUPS, WRITE_BACKOFFICE, CREDENTIALS_GROUPS. */
  authorization: Authorization
  reaper: RoomReaper
  teleconsultations: TeleconsultationService
  credentials: CredentialsService
  settings: SettingsService
  transcriptions: TranscriptionService
  readiness: ReadinessCheck
  /** ROOM_CLOSE_AFTER_END_MS set only. */
  closer?: RoomCloser
  /** KALEYRA_WEBHOOKS=true only. */
  webhooks?: KaleyraWebhookService
  /** Where the domain hands its events (a no-op: outgoing events are not delivered yet). */
  publisher: EventPublisher
  /** IDEMPOTENCY_KEYS=true only. */
  idempotency?: Idempotency
  /** Stops the reaper, then closes the upstream pools. */
  close: () => Promise<void>
}

/** The composition root: every service and what it depends on, wired in one place. */
export function createServices (config: AppConfig, host: ServiceHost, overrides: ServiceOverrides = {}): Services {
  const { env } = config
  if (env.BANDYER_BASE_URL === undefined || env.BANDYER_API_SECRET_KEY === undefined) {
    throw new Error('buildApp needs BANDYER_BASE_URL and BANDYER_API_SECRET_KEY (server.ts fills them in emulator mode)')
  }
  const kaleyra = createKaleyraClient({
    baseUrl: env.BANDYER_BASE_URL,
    apiKey: env.BANDYER_API_SECRET_KEY,
    timeoutMs: env.KALEYRA_TIMEOUT_MS,
    dispatcher: overrides.kaleyraDispatcher,
    retryDelayMs: overrides.kaleyraRetryDelayMs,
    observer: overrides.upstreamObserver,
    log: host.log
  })
  const stores = overrides.stores ?? createStores(config, host.log, overrides)
  const identity = overrides.identity ?? createIdentityProvider(config, overrides)
  const users = createKaleyraUsers({ kaleyra, userMap: stores.userMap, idSecret: env.KALEYRA_USER_ID_SECRET ?? env.BANDYER_API_SECRET_KEY })
  const { events } = host
  const reaper = createRoomReaper({ kaleyra, store: stores.teleconsultations, log: host.log, events }, overrides.reaper)
  const readiness = createReadinessCheck({
    stores: [
      { name: 'teleconsultation store', ping: async () => { await stores.teleconsultations.ping() } },
      { name: 'user-id map store', ping: async () => { await stores.userMap.ping() } },
      ...(env.IDEMPOTENCY_KEYS ? [{ name: 'idempotency key store', ping: async () => { await stores.idempotency.ping() } }] : [])
    ],
    kaleyra,
    log: host.log,
    cacheMs: env.STATUS_CHECK_CACHE_MS,
    timeoutMs: env.STATUS_CHECK_TIMEOUT_MS,
    now: overrides.now
  })

  const publisher: EventPublisher = NO_EVENTS
  const webhooks = env.KALEYRA_WEBHOOKS
    ? createKaleyraWebhookService({ config, store: stores.teleconsultations, log: host.log, events: publisher, observer: host.integrations, now: overrides.now, retryDelaysMs: overrides.webhookRetryDelaysMs })
    : undefined
  const closer = env.ROOM_CLOSE_AFTER_END_MS !== undefined
    ? createRoomCloser({ store: stores.teleconsultations, reaper, log: host.log, closeAfterMs: env.ROOM_CLOSE_AFTER_END_MS, events: publisher, observer: host.integrations, now: overrides.now }, overrides.closer)
    : undefined

  return {
    kaleyra,
    stores,
    webhooks,
    closer,
    publisher,
    identity,
    authorization: createAuthorization({ env, identity }),
    reaper,
    teleconsultations: createTeleconsultationService({
      config, kaleyra, store: stores.teleconsultations, users, identity, reaper, now: overrides.now, events
    }),
    credentials: createCredentialsService({ config, kaleyra, users, userMap: stores.userMap, identity }),
    settings: createSettingsService({ config, kaleyra, identity }),
    transcriptions: createTranscriptionService({ config, kaleyra, store: stores.teleconsultations }),
    readiness,
    idempotency: env.IDEMPOTENCY_KEYS ? createIdempotency({ store: stores.idempotency, now: overrides.now }) : undefined,
    async close () {
      await Promise.all([webhooks?.close(), closer?.close()])
      await reaper.close()
      await Promise.allSettled([kaleyra.close(), stores.teleconsultations.close(), stores.userMap.close(), stores.idempotency.close(), identity.close()])
    }
  }
}

function createIdentityProvider (config: AppConfig, overrides: ServiceOverrides): IdentityProvider {
  const { env } = config
  if (env.AUTH_SERVICE === undefined) return createHeaderIdentityProvider()
  return createAuthServiceIdentityProvider({
    authService: env.AUTH_SERVICE,
    timeoutMs: env.IDENTITY_TIMEOUT_MS,
    customIdEndpoint: env.CUSTOM_ID_USERS_API_ENDPOINT,
    customUserId: config.service.customUserId,
    observer: overrides.upstreamObserver,
    now: overrides.now
  })
}

function createStores (config: AppConfig, log: FastifyBaseLogger, overrides: ServiceOverrides): Stores {
  const { env } = config
  const baseUrl = crudBaseUrl(env)
  if (baseUrl === undefined) {
    if (!env.KALEYRA_EMULATOR) {
      log.warn('no CRUD_SERVICE_URL/CRUD_SERVICE: teleconsultations are kept in memory, lost on restart and not shared between replicas')
    }
    return createMemoryStores()
  }
  return createCrudStores({
    baseUrl,
    timeoutMs: env.CRUD_TIMEOUT_MS,
    teleconsultationsPath: env.TELECONSULTATIONS_CRUD_NAME,
    userMapPath: env.USER_ID_MAP_CRUD_NAME,
    idempotencyPath: env.IDEMPOTENCY_CRUD_NAME,
    userIdHeader: env.USERID_HEADER_KEY,
    observer: overrides.upstreamObserver,
    log,
    ...overrides.crud
  })
}
