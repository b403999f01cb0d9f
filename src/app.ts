import Fastify, { type FastifyInstance, type FastifyServerOptions, type onRouteHookHandler } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { AppConfig } from './config/index.js'
import { apiPrefix, authenticationMode, bodyLimit, trustProxy } from './config/env.js'
import { credentialsRoutes } from './credentials/routes.js'
import { requestContext } from './identity/request-context.js'
import { installErrorHandler, formatSchemaErrors } from './platform/error-handler.js'
import { loggerOptions, prettyLogs } from './platform/logging.js'
import { createServiceMetrics, registerMetrics } from './platform/metrics.js'
import { documentBearer, registerOpenApi } from './platform/openapi.js'
import { recordingRoutes } from './recordings/routes.js'
import { PlatformLogController } from './platform/request-log.js'
import { registerStatusRoutes } from './platform/status.js'
import { installServerTimeouts } from './platform/server-timeouts.js'
import { frameworkErrors, installNotFound } from './platform/unroutable.js'
import { lazySerializerFactory } from './lib/serialization.js'
import { createValidatorCompiler } from './lib/validation.js'
import { createServices, type ServiceOverrides, type Services } from './services.js'
import { settingsRoutes } from './settings/routes.js'
import { teleconsultationRoutes } from './teleconsultations/routes.js'
import { transcriptionRoutes } from './transcription/routes.js'
import { kaleyraWebhookRoutes } from './webhooks/routes.js'

/** Replaceable parts, for tests and for the demo. */
export interface AppOverrides extends ServiceOverrides {
  /** A pino instance (tests capture logs with it); by default pino JSON on stdout. */
  loggerInstance?: FastifyServerOptions['loggerInstance']
  /** Sees every route as it is registered (a test compiles every schema, which start-up no longer does). */
  onRoute?: onRouteHookHandler
}

/** The app and the services behind it (the process drains readiness on shutdown; tests wait for the reaper). */
export interface ComposedApp {
  app: FastifyInstance
  services: Services
}

/** Builds the whole service without listening: what tests inject into. */
export async function buildApp (config: AppConfig, overrides: AppOverrides = {}): Promise<FastifyInstance> {
  return (await composeApp(config, overrides)).app
}

/** buildApp, also handing back the services it created. */
export async function composeApp (config: AppConfig, given: AppOverrides = {}): Promise<ComposedApp> {
  const { env } = config
  const metrics = createServiceMetrics()
  const trustedProxies = trustProxy(env)
  const app = Fastify({
    ...(given.loggerInstance !== undefined
      ? { loggerInstance: given.loggerInstance }
      : { logger: loggerOptions(env.LOG_LEVEL, prettyLogs(env.KALEYRA_EMULATOR)) }),
    logController: new PlatformLogController({ trustProxySet: env.TRUST_PROXY !== undefined }),
    requestIdHeader: 'x-request-id',
    bodyLimit: bodyLimit(env),
    // TRUST_PROXY unset: as on the platform (TRUSTED_PROXIES, else none).
    trustProxy: trustedProxies ?? false,
    routerOptions: { ignoreTrailingSlash: false, caseSensitive: true },
    schemaErrorFormatter: formatSchemaErrors,
    // Response schemas are compiled on first use (validators too, below).
    schemaController: { compilersFactory: { buildSerializer: lazySerializerFactory() } },
    frameworkErrors,
    return503OnClosing: false,
    // Node checks the headers timeout at this interval (30 s by default).
    http: { connectionsCheckingInterval: 1_000 }
  }).withTypeProvider<TypeBoxTypeProvider>()
  if (given.onRoute !== undefined) app.addHook('onRoute', given.onRoute)
  installServerTimeouts(app, {
    requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
    headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS
  })

  app.setValidatorCompiler(createValidatorCompiler())
  installErrorHandler(app)
  installNotFound(app)
  registerMetrics(app, metrics, env.EXPOSE_METRICS)
  await registerOpenApi(app, {
    userIdPathInRequest: config.service.userIdPathInRequest,
    userIdHeader: env.USERID_HEADER_KEY,
    groupsHeader: env.GROUPS_HEADER_KEY,
    bearer: authenticationMode(env) !== undefined
  })

  // The metrics see every upstream call, a test's observer too.
  const services = createServices(
    config,
    { log: app.log, events: metrics.teleconsultations, integrations: metrics.integrations },
    {
      ...given,
      upstreamObserver: metrics.upstreamObserver(given.upstreamObserver)
    }
  )
  app.addHook('onClose', services.close)
  await registerStatusRoutes(app, services.readiness)
  // The demo's waiting room, never in production (not even loaded).
  if (env.KALEYRA_EMULATOR) await app.register((await import('./demo-page/routes.js')).demoPageRoutes, { env })

  await app.register(
    async api => {
      // The routes that act for a caller (with a token verifier, only for a verified one).
      await api.register(async callers => {
        if (services.tokens !== undefined) callers.addHook('onRoute', documentBearer)
        await callers.register(requestContext, { config, verifier: services.tokens })
        await callers.register(teleconsultationRoutes, {
          teleconsultations: services.teleconsultations,
          authorization: services.authorization,
          idempotency: services.idempotency
        })
        await callers.register(credentialsRoutes, {
          credentials: services.credentials,
          authorization: services.authorization,
          maxExpiresIn: env.CREDENTIALS_MAX_EXPIRES_IN
        })
        await callers.register(settingsRoutes, { settings: services.settings })
        await callers.register(transcriptionRoutes, { transcriptions: services.transcriptions })
        await callers.register(recordingRoutes, { recordings: services.recordings })
      })
      // Kaleyra's signature is what lets a webhook in.
      if (services.webhooks !== undefined) await api.register(kaleyraWebhookRoutes, { webhooks: services.webhooks })
    },
    { prefix: apiPrefix(env) }
  )

  return { app, services }
}
