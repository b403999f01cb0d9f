// OpenTelemetry tracing, lc39's --enable-tracing: the first import of src/server.ts, so that with
// ENABLE_TRACING=true the SDK and its instrumentations are in place before fastify and undici load.
// Off (the default) this file loads nothing else: the OpenTelemetry packages are required below,
// synchronously and only when enabled (an ESM import would be hoisted, and an async one would let
// the rest of the server load first). Their types are imported for the compiler only.
import { createRequire } from 'node:module'
import { subscribe } from 'node:diagnostics_channel'
import { format } from 'node:util'
import type { IncomingMessage } from 'node:http'
import type * as OtelApi from '@opentelemetry/api'
import type * as OtelCore from '@opentelemetry/core'
import type * as OtelResources from '@opentelemetry/resources'
import type * as OtelSdk from '@opentelemetry/sdk-trace-node'
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http'
import type * as OtelHttp from '@opentelemetry/instrumentation-http'
import type * as OtelUndici from '@opentelemetry/instrumentation-undici'
import { readPackage } from '../lib/package-info.js'

export interface Tracing {
  /**
   * Ends the instrumentations and exports the spans still buffered (at shutdown). Never fails: a
   * collector that cannot be reached is a warning, not a failed shutdown.
   */
  shutdown: (log: { warn: (fields: object, message: string) => void }) => Promise<void>
}

/**
 * The only span attributes exported. Everything else an instrumentation may record (request or
 * response headers, user agent, client address, attributes of a future version) is dropped.
 */
const KEPT_ATTRIBUTES = new Set([
  'http.request.method', 'http.request.method_original', 'http.response.status_code', 'http.route',
  'url.scheme', 'url.path', 'url.query', 'url.full', 'server.address', 'server.port',
  'network.protocol.version', 'error.type'
])
/** Kept on upstream calls (CLIENT spans) only: on the incoming request they are the caller's. */
const KEPT_ON_CLIENT_SPANS = new Set(['network.peer.address', 'network.peer.port'])
/** Requests that are not traced: probes, metrics and documentation (as they are not measured). */
const UNTRACED_PATHS = /^\/(-\/|documentation(\/|$|\?))/
const REDACTED = 'REDACTED'

/** A query string with every value replaced: names stay, so the call is still recognisable. */
export function redactQuery (query: string): string {
  const params = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query)
  const names = [...params.keys()]
  if (names.length === 0) return ''
  return (query.startsWith('?') ? '?' : '') + names.map(name => `${encodeURIComponent(name)}=${REDACTED}`).join('&')
}

/** A URL without credentials and with its query values redacted. */
export function redactUrl (raw: string): string {
  try {
    const url = new URL(raw)
    if (url.username !== '' || url.password !== '') { url.username = REDACTED; url.password = '' }
    url.search = redactQuery(url.search)
    return url.toString()
  } catch {
    return REDACTED
  }
}

/** Keeps only the listed attributes of a finished span, the URLs redacted. */
export function redactAttributes (attributes: Record<string, unknown>, client: boolean): void {
  for (const key of Object.keys(attributes)) {
    if (!KEPT_ATTRIBUTES.has(key) && !(client && KEPT_ON_CLIENT_SPANS.has(key))) delete attributes[key]
  }
  if (typeof attributes['url.query'] === 'string') attributes['url.query'] = redactQuery(attributes['url.query'])
  if (typeof attributes['url.full'] === 'string') attributes['url.full'] = redactUrl(attributes['url.full'])
}

function startTracing (): Tracing {
  const load = createRequire(import.meta.url)
  const api = load('@opentelemetry/api') as typeof OtelApi
  const core = load('@opentelemetry/core') as typeof OtelCore
  const resources = load('@opentelemetry/resources') as typeof OtelResources
  const sdk = load('@opentelemetry/sdk-trace-node') as typeof OtelSdk
  const { OTLPTraceExporter } = load('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttp
  const { HttpInstrumentation } = load('@opentelemetry/instrumentation-http') as typeof OtelHttp
  const { UndiciInstrumentation } = load('@opentelemetry/instrumentation-undici') as typeof OtelUndici

  // The SDK's own diagnostics (export failures…) when OTEL_LOG_LEVEL asks for them: on stderr,
  // every level, so that stdout keeps only the JSON log lines.
  const diagLevel = core.diagLogLevelFromString(process.env.OTEL_LOG_LEVEL)
  if (diagLevel !== undefined) {
    const write = (level: string) => (message: string, ...args: unknown[]) => { process.stderr.write(`OpenTelemetry ${level}: ${format(message, ...args)}\n`) }
    api.diag.setLogger({ error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug'), verbose: write('verbose') }, { logLevel: diagLevel })
  }

  // A redacting processor in front of the batch: every span passes here before it is exported.
  const batch = new sdk.BatchSpanProcessor(new OTLPTraceExporter())
  const redacting: OtelSdk.SpanProcessor = {
    onStart: (span, parentContext) => batch.onStart(span, parentContext),
    onEnd: span => {
      redactAttributes(span.attributes as Record<string, unknown>, span.kind === api.SpanKind.CLIENT)
      batch.onEnd(span)
    },
    forceFlush: async () => await batch.forceFlush(),
    shutdown: async () => await batch.shutdown()
  }

  const { name, version } = readPackage()
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the package's name and version.
  const resource = resources.defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': name, 'service.version': version }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }))
  // Sampler (OTEL_TRACES_SAMPLER), batching (OTEL_BSP_*) and exporter (OTEL_EXPORTER_OTLP_*) read
  // their standard variables.
  const provider = new sdk.NodeTracerProvider({ resource, spanProcessors: [redacting] })
  // Trace context only: W3C baggage would carry whatever a caller put in it on to every upstream
  // call, Kaleyra's included.
  provider.register({ propagator: new core.W3CTraceContextPropagator() })

  const instrumentations = [
    new HttpInstrumentation({
      // The incoming requests only: upstream calls all go through undici.
      disableOutgoingRequestInstrumentation: true,
      ignoreIncomingRequestHook: (request: IncomingMessage) => UNTRACED_PATHS.test(request.url ?? '/')
    }),
    // Only calls made while serving a traced request: the status checks of untraced probes and
    // the background work started by no request make no trace of their own.
    new UndiciInstrumentation({ requireParentforSpans: true })
  ]

  // Fastify publishes the matched route when a handler starts: it names the request's span
  // ("POST /teleconsultation") and becomes its http.route.
  subscribe('tracing:fastify.request.handler:start', message => {
    const { request, route } = message as { request?: { method?: unknown }, route?: { url?: unknown } }
    if (typeof route?.url !== 'string' || typeof request?.method !== 'string') return
    const active = api.context.active()
    const metadata = core.getRPCMetadata(active)
    if (metadata?.type !== core.RPCType.HTTP) return
    metadata.route = route.url
    metadata.span.updateName(`${request.method} ${route.url}`)
  })

  return {
    async shutdown (log) {
      for (const instrumentation of instrumentations) instrumentation.disable()
      // Bounded: the whole shutdown must end within WAIT_BEFORE_SERVER_CLOSE_SEC + 5 s, and the
      // exporter keeps retrying an unreachable collector for OTEL_EXPORTER_OTLP_TIMEOUT (10 s).
      let timer: NodeJS.Timeout | undefined
      const deadline = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => { reject(new Error(`the collector did not take the spans within ${SHUTDOWN_EXPORT_MS} ms`)) }, SHUTDOWN_EXPORT_MS)
        timer.unref()
      })
      try {
        await Promise.race([provider.shutdown(), deadline])
      } catch (err) {
        // The message only: an exporter error may carry the collector's answer.
        log.warn({ reason: err instanceof Error ? err.message : String(err) }, 'traces not exported at shutdown')
      } finally {
        clearTimeout(timer)
      }
    }
  }
}

/** How long the spans still buffered at shutdown may take to reach the collector. */
const SHUTDOWN_EXPORT_MS = 2_000

/** The running tracing, or null when ENABLE_TRACING is not true (then nothing was loaded). */
export const tracing: Tracing | null = process.env.ENABLE_TRACING === 'true' ? startTracing() : null
