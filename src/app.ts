import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Dispatcher } from 'undici'
import type { AppConfig } from './config/index.js'
import { apiPrefix, crudBaseUrl } from './config/env.js'
import { createKaleyraClient, type KaleyraClient } from './kaleyra/client.js'
import { createAuthServiceIdentityProvider } from './identity/auth-service-provider.js'
import { createCallerContextReader } from './identity/caller.js'
import { createHeaderIdentityProvider } from './identity/header-provider.js'
import { createKaleyraUsers, type KaleyraUsers } from './identity/kaleyra-users.js'
import type { CallerContext, IdentityProvider } from './identity/types.js'
import { installErrorHandler, formatSchemaErrors } from './platform/error-handler.js'
import { loggerOptions } from './platform/logging.js'
import { createServiceMetrics, registerMetrics } from './platform/metrics.js'
import { registerOpenApi } from './platform/openapi.js'
import { createReadinessCheck, type ReadinessCheck } from './platform/readiness.js'
import { PlatformLogController } from './platform/request-log.js'
import { registerStatusRoutes } from './platform/status.js'
import { createValidatorCompiler } from './platform/validation.js'
import { createCrudStores, type CrudStoresOptions } from './store/crud/index.js'
import { createMemoryStores } from './store/memory.js'
import type { Stores } from './store/types.js'
import type { UpstreamObserver } from './upstream/http.js'
import { createRoomReaper, type ReaperOptions, type RoomReaper } from './teleconsultations/reaper.js'
import { teleconsultationRoutes } from './teleconsultations/routes.js'
import { credentialsRoutes } from './credentials/routes.js'
import { settingsRoutes } from './settings/routes.js'
import { transcriptionRoutes } from './transcription/routes.js'
import { createTeleconsultationService, type TeleconsultationService } from './teleconsultations/service.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: AppConfig
    kaleyra: KaleyraClient
    stores: Stores
    identity: IdentityProvider
    kaleyraUsers: KaleyraUsers
    reaper: RoomReaper
    teleconsultations: TeleconsultationService
    callerContext: (request: FastifyRequest) => CallerContext
    readiness: ReadinessCheck
  }
}

/** Replaceable parts, for tests and for the demo. */
export interface AppOverrides {
  /** A pino instance (tests capture logs with it); by default pino JSON on stdout. */
  loggerInstance?: FastifyServerOptions['loggerInstance']
  /** undici dispatcher for Kaleyra calls (e.g. a MockAgent). */
  kaleyraDispatcher?: Dispatcher
  /** Backoff base of Kaleyra retries (tests shorten it). */
  kaleyraRetryDelayMs?: number
  /** Told about every upstream call (Kaleyra, CRUD, identity): metrics hook. */
  upstreamObserver?: UpstreamObserver
  stores?: Stores
  /** Test knobs of the CRUD stores (built when CRUD_SERVICE_URL/CRUD_SERVICE is set and `stores` is not given). */
  crud?: Pick<CrudStoresOptions, 'dispatcher' | 'retryDelayMs' | 'lostInsertChecksMs'>
  identity?: IdentityProvider
  reaper?: ReaperOptions
  /** The clock of the service: immutability windows and how long cached answers are reused (tests fix it). */
  now?: () => number
}

/** Builds the whole service without listening: what server.ts starts and what tests inject into. */
export async function buildApp (config: AppConfig, given: AppOverrides = {}): Promise<FastifyInstance> {
  const { env } = config
  const metrics = createServiceMetrics()
  // Every upstream client takes overrides.upstreamObserver: the metrics see all calls, a test's observer too.
  const overrides: AppOverrides = { ...given, upstreamObserver: metrics.upstreamObserver(given.upstreamObserver) }
  const app = Fastify({
    ...(overrides.loggerInstance !== undefined ? { loggerInstance: overrides.loggerInstance } : { logger: loggerOptions(env.LOG_LEVEL) }),
    logController: new PlatformLogController(),
    requestIdHeader: 'x-request-id',
    routerOptions: { ignoreTrailingSlash: false, caseSensitive: true },
    schemaErrorFormatter: formatSchemaErrors,
    return503OnClosing: false
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setValidatorCompiler(createValidatorCompiler())
  installErrorHandler(app)
  await registerMetrics(app, metrics)
  await registerOpenApi(app, {
    userIdPathInRequest: config.service.userIdPathInRequest,
    userIdHeader: env.USERID_HEADER_KEY,
    groupsHeader: env.GROUPS_HEADER_KEY
  })

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
    log: app.log
  })
  const stores = overrides.stores ?? createStores(config, app.log, overrides)
  const identity = overrides.identity ?? (env.AUTH_SERVICE !== undefined
    ? createAuthServiceIdentityProvider({
      authService: env.AUTH_SERVICE,
      timeoutMs: env.IDENTITY_TIMEOUT_MS,
      customIdEndpoint: env.CUSTOM_ID_USERS_API_ENDPOINT,
      customUserId: config.service.customUserId,
      observer: overrides.upstreamObserver,
      now: overrides.now
    })
    : createHeaderIdentityProvider())
  const kaleyraUsers = createKaleyraUsers({ kaleyra, userMap: stores.userMap })
  const events = metrics.teleconsultations
  const reaper = createRoomReaper({ kaleyra, store: stores.teleconsultations, log: app.log, events }, overrides.reaper)
  const teleconsultations = createTeleconsultationService({
    config, kaleyra, store: stores.teleconsultations, users: kaleyraUsers, identity, reaper, log: app.log, now: overrides.now, events
  })
  const readiness = createReadinessCheck({
    stores: [
      { name: 'teleconsultation store', ping: async () => { await stores.teleconsultations.ping() } },
      { name: 'user-id map store', ping: async () => { await stores.userMap.ping() } }
    ],
    kaleyra,
    log: app.log,
    cacheMs: env.STATUS_CHECK_CACHE_MS,
    timeoutMs: env.STATUS_CHECK_TIMEOUT_MS,
    now: overrides.now
  })
  await registerStatusRoutes(app, readiness)

  app.decorate('config', config)
  app.decorate('kaleyra', kaleyra)
  app.decorate('stores', stores)
  app.decorate('identity', identity)
  app.decorate('kaleyraUsers', kaleyraUsers)
  app.decorate('reaper', reaper)
  app.decorate('teleconsultations', teleconsultations)
  app.decorate('callerContext', createCallerContextReader(config))
  app.decorate('readiness', readiness)

  app.addHook('onClose', async () => {
    await reaper.close()
    await Promise.allSettled([kaleyra.close(), stores.teleconsultations.close(), stores.userMap.close(), identity.close()])
  })

  await app.register(async (api) => {
    await api.register(teleconsultationRoutes)
    await api.register(credentialsRoutes)
    await api.register(settingsRoutes)
    await api.register(transcriptionRoutes)
  }, { prefix: apiPrefix(env) })

  return app
}

function createStores (config: AppConfig, log: FastifyInstance['log'], overrides: AppOverrides): Stores {
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
    userIdHeader: env.USERID_HEADER_KEY,
    observer: overrides.upstreamObserver,
    log,
    ...overrides.crud
  })
}
