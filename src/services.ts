import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import type { Dispatcher } from 'undici'
import type { AppConfig } from './config/index.js'
import { authenticationMode, crudBaseUrl } from './config/env.js'
import { createCredentialsService, type CredentialsService } from './credentials/service.js'
import { createAuthorization, type Authorization } from './identity/authorization.js'
import { createAuthServiceIdentityProvider } from './identity/auth-service-provider.js'
import { createHeaderIdentityProvider } from './identity/header-provider.js'
import { createKaleyraUsers } from './users/kaleyra-users.js'
import { createTokenVerifier, type TokenVerifier } from './identity/token-verifier.js'
import type { IdentityProvider } from './identity/types.js'
import { createKaleyraClient, type KaleyraClient } from './kaleyra/client.js'
import { createReadinessCheck, type ReadinessCheck } from './platform/readiness.js'
import { createRecordingService, type RecordingService } from './recordings/service.js'
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
import { createEventDelivery, type EventDelivery, type EventDeliveryOptions } from './events/delivery.js'
import { createEventSender } from './events/sender.js'
import { NO_EVENTS, type EventPublisher, type IntegrationObserver } from './events/types.js'
import { createMemoryOutboxStore } from './store/outbox.js'
import { createKaleyraWebhookService, type KaleyraWebhookService } from './webhooks/service.js'

/** How long closing lets the background work (reaper, closer, webhooks) end its current step. */
const BACKGROUND_CLOSE_GRACE_MS = 250

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
  /** Timings of the delivery of events to EVENTS_WEBHOOK_URL (tests shorten them). */
  events?: EventDeliveryOptions
  /** Delays between attempts to apply a Kaleyra webhook the store could not take. */
  webhookRetryDelaysMs?: number[]
  /**
   * Where transcriptions beyond TRANSCRIPTION_MEMORY_BUDGET are written (default: the system's temporary directory).
   */
  transcriptionSpoolDirectory?: string
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
  /** AUTH_JWKS_URL or AUTH_JWT_SECRET only: the caller comes from a verified bearer token. */
  tokens?: TokenVerifier
  /** WRITE_GROUPS, WRITE_BACKOFFICE, CREDENTIALS_GROUPS. */
  authorization: Authorization
  reaper: RoomReaper
  teleconsultations: TeleconsultationService
  credentials: CredentialsService
  settings: SettingsService
  transcriptions: TranscriptionService
  /** GET /recording/… and GET /teleconsultation/:id/sessions (always on: they only answer when asked). */
  recordings: RecordingService
  readiness: ReadinessCheck
  /** ROOM_CLOSE_AFTER_END_MS set only. */
  closer?: RoomCloser
  /** KALEYRA_WEBHOOKS=true only. */
  webhooks?: KaleyraWebhookService
  /** Where the domain hands its events (a no-op without EVENTS_WEBHOOK_URL). */
  publisher: EventPublisher
  /** EVENTS_WEBHOOK_URL set only: the outbox's delivery worker. */
  eventDelivery?: EventDelivery
  /** IDEMPOTENCY_KEYS=true only. */
  idempotency?: Idempotency
  /** Stops the background work, then closes the upstream pools; bounded (about a second). */
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
  const authentication = authenticationMode(env)
  const tokens =
    authentication !== undefined
      ? createTokenVerifier({
        env,
        mode: authentication,
        timeoutMs: env.IDENTITY_TIMEOUT_MS,
        observer: overrides.upstreamObserver
      })
      : undefined
  const users = createKaleyraUsers({
    kaleyra,
    userMap: stores.userMap,
    idSecret: env.KALEYRA_USER_ID_SECRET ?? env.BANDYER_API_SECRET_KEY
  })
  const { events } = host
  const eventDelivery =
    env.EVENTS_WEBHOOK_URL !== undefined && env.EVENTS_WEBHOOK_SECRET !== undefined
      ? createEventDelivery(
        {
          // A store given without an outbox (tests wrapping stores) keeps the events in memory.
          outbox: stores.outbox ?? createMemoryOutboxStore(),
          sender: createEventSender({
            url: env.EVENTS_WEBHOOK_URL,
            secret: env.EVENTS_WEBHOOK_SECRET,
            timeoutMs: env.EVENTS_TIMEOUT_MS,
            now: overrides.now,
            observer: overrides.upstreamObserver
          }),
          log: host.log,
          retryForMs: env.EVENTS_RETRY_FOR_MS,
          timeoutMs: env.EVENTS_TIMEOUT_MS,
          observer: host.integrations,
          now: overrides.now
        },
        overrides.events
      )
      : undefined
  const publisher: EventPublisher = eventDelivery?.publisher ?? NO_EVENTS
  const reaper = createRoomReaper(
    { kaleyra, store: stores.teleconsultations, log: host.log, events, publisher },
    overrides.reaper
  )
  const readiness = createReadinessCheck({
    stores: [
      { name: 'teleconsultation store', ping: async () => { await stores.teleconsultations.ping() } },
      { name: 'user-id map store', ping: async () => { await stores.userMap.ping() } },
      // A wrong EVENTS_OUTBOX_CRUD_NAME would lose every event: it shows here instead.
      ...(env.EVENTS_WEBHOOK_URL !== undefined && stores.outbox !== undefined ? [{ name: 'event outbox store', ping: async () => { await stores.outbox?.ping() } }] : []),
      ...(env.IDEMPOTENCY_KEYS ? [{ name: 'idempotency key store', ping: async () => { await stores.idempotency.ping() } }] : [])
    ],
    kaleyra,
    log: host.log,
    cacheMs: env.STATUS_CHECK_CACHE_MS,
    timeoutMs: env.STATUS_CHECK_TIMEOUT_MS,
    now: overrides.now
  })

  const webhooks = env.KALEYRA_WEBHOOKS
    ? createKaleyraWebhookService({
      config,
      store: stores.teleconsultations,
      log: host.log,
      publisher,
      observer: host.integrations,
      now: overrides.now,
      retryDelaysMs: overrides.webhookRetryDelaysMs
    })
    : undefined
  const closer =
    env.ROOM_CLOSE_AFTER_END_MS !== undefined
      ? createRoomCloser(
        {
          store: stores.teleconsultations,
          reaper,
          log: host.log,
          closeAfterMs: env.ROOM_CLOSE_AFTER_END_MS,
          publisher,
          observer: host.integrations,
          now: overrides.now
        },
        overrides.closer
      )
      : undefined

  return {
    kaleyra,
    stores,
    webhooks,
    closer,
    publisher,
    eventDelivery,
    identity,
    tokens,
    authorization: createAuthorization({ env, identity }),
    reaper,
    teleconsultations: createTeleconsultationService({
      config, kaleyra, store: stores.teleconsultations, users, identity, reaper, now: overrides.now, events, publisher
    }),
    credentials: createCredentialsService({ config, kaleyra, users, userMap: stores.userMap, identity }),
    settings: createSettingsService({ config, kaleyra, identity }),
    transcriptions: createTranscriptionService({
      config,
      kaleyra,
      store: stores.teleconsultations,
      log: host.log,
      spoolDirectory: overrides.transcriptionSpoolDirectory
    }),
    recordings: createRecordingService({ config, kaleyra, store: stores.teleconsultations }),
    readiness,
    idempotency: env.IDEMPOTENCY_KEYS
      ? createIdempotency({ store: stores.idempotency, now: overrides.now })
      : undefined,
    async close () {
      // Bounded: background work gets BACKGROUND_CLOSE_GRACE_MS to end its current step (the event
      // delivery last, after everything that publishes), then the pools close (cutting what is
      // still in flight after their own grace): what is left undone is recorded and swept by a replica.
      const background = (async () => {
        await Promise.all([webhooks?.close(), closer?.close(), reaper.close()])
        await eventDelivery?.close()
      })()
      await Promise.race([background, sleep(BACKGROUND_CLOSE_GRACE_MS, undefined, { ref: false })])
      await Promise.allSettled([
        kaleyra.close(),
        stores.teleconsultations.close(),
        stores.userMap.close(),
        stores.outbox?.close(),
        stores.idempotency.close(),
        identity.close(),
        tokens?.close()
      ])
      await Promise.race([background, sleep(BACKGROUND_CLOSE_GRACE_MS, undefined, { ref: false })])
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
    outboxPath: env.EVENTS_WEBHOOK_URL !== undefined ? env.EVENTS_OUTBOX_CRUD_NAME : undefined,
    idempotencyPath: env.IDEMPOTENCY_CRUD_NAME,
    userIdHeader: env.USERID_HEADER_KEY,
    observer: overrides.upstreamObserver,
    log,
    ...overrides.crud
  })
}
