import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import * as promClient from 'prom-client'
import type { IntegrationObserver } from '../events/types.js'
import type { TeleconsultationEvents } from '../teleconsultations/events.js'
import type { UpstreamObserver } from '../upstream/http.js'

const { Counter, Histogram, Registry, Summary, collectDefaultMetrics } = promClient

export interface ServiceMetrics {
  /** This app's own metrics: routes, upstream calls, teleconsultation events. */
  registry: promClient.Registry
  /** An observer for the upstream HTTP clients; `next` (e.g. a test's) is told too. */
  upstreamObserver: (next?: UpstreamObserver) => UpstreamObserver
  teleconsultations: TeleconsultationEvents
  integrations: IntegrationObserver
}

let processRegistry: promClient.Registry | undefined

/**
 * CPU, memory, event loop and GC metrics describe the process, not an app: they are collected
 * once per process (tests build many apps; each collector would add its own GC observer).
 */
function processMetrics (): promClient.Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

/** A registry per app, never prom-client's global one, so apps built side by side do not share counts. */
export function createServiceMetrics (): ServiceMetrics {
  const registry = new Registry()
  const registers = [registry]
  const upstreamLabels = ['target', 'operation', 'status_class'] as const
  const duration = new Histogram({
    name: 'upstream_request_duration_seconds',
    help: 'Duration of each call to Kaleyra, the CRUD Service and the identity service (one per attempt)',
    labelNames: upstreamLabels,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers
  })
  const calls = new Counter({
    name: 'upstream_requests_total',
    help: 'Calls to Kaleyra, the CRUD Service and the identity service (one per attempt)',
    labelNames: upstreamLabels,
    registers
  })
  const retries = new Counter({
    name: 'upstream_request_retries_total',
    help: 'Attempts that repeated a failed upstream call',
    labelNames: ['target', 'operation'] as const,
    registers
  })
  const counter = (name: string, help: string) => new Counter({ name, help, registers })
  const created = counter('teleconsultations_created_total', 'Teleconsultations stored')
  const roomsCreated = counter('teleconsultation_rooms_created_total', 'Kaleyra rooms created')
  const roomsReplaced = counter('teleconsultation_rooms_replaced_total', 'Teleconsultations whose Kaleyra room was replaced by a new one')
  const roomsDeleted = counter('teleconsultation_rooms_deleted_total', 'Kaleyra rooms deleted (with their teleconsultation, after a replacement, or as a clean-up)')
  const compensations = counter('teleconsultation_compensations_total', 'New Kaleyra rooms given up because the change could not be stored')

  const webhooks = new Counter({
    name: 'kaleyra_webhooks_received_total',
    help: 'Kaleyra webhooks received, by event and outcome (processed, duplicate, ignored, rejected, failed)',
    labelNames: ['event', 'outcome'] as const,
    registers
  })
  const roomsClosed = counter('teleconsultation_rooms_closed_total', 'Kaleyra rooms deleted ROOM_CLOSE_AFTER_END_MS after their teleconsultation ended')
  const eventLabels = ['type'] as const
  const delivered = new Counter({ name: 'events_delivered_total', help: 'Events delivered to EVENTS_WEBHOOK_URL, by type', labelNames: eventLabels, registers })
  const failed = new Counter({ name: 'events_failed_total', help: 'Events given up after EVENTS_RETRY_FOR_MS, by type', labelNames: eventLabels, registers })

  const observe: UpstreamObserver = event => {
    const labels = { target: event.target, operation: event.operation, status_class: event.statusClass }
    duration.observe(labels, event.durationSeconds)
    calls.inc(labels)
    if (event.attempt > 1) retries.inc({ target: event.target, operation: event.operation })
  }

  return {
    registry,
    upstreamObserver: next => next === undefined ? observe : event => { observe(event); next(event) },
    teleconsultations: {
      created: () => created.inc(),
      roomCreated: () => roomsCreated.inc(),
      roomReplaced: () => roomsReplaced.inc(),
      roomDeleted: () => roomsDeleted.inc(),
      compensation: () => compensations.inc()
    },
    integrations: {
      webhook: (event, outcome) => webhooks.inc({ event, outcome }),
      roomClosed: () => roomsClosed.inc(),
      eventDelivered: type => delivered.inc({ type }),
      eventFailed: type => failed.inc({ type })
    }
  }
}

/**
 * Not measured, as lc39 does not measure them: probes, scrapes and the documentation would
 * otherwise dominate request rate and latency dashboards. Status routes are always at the root.
 */
const UNMEASURED_ROUTES = [/^\/-\//, /^\/documentation(\/|$)/]
const UNMEASURED_METHODS = new Set(['HEAD', 'OPTIONS', 'TRACE', 'CONNECT'])

const ROUTE_LABELS = ['method', 'route', 'status_code'] as const
type RouteLabel = typeof ROUTE_LABELS[number]
interface RouteSeries {
  histogram: promClient.Histogram.Internal<RouteLabel>
  summary: promClient.Summary.Internal<RouteLabel>
}

/**
 * The duration of every request to a registered route, as lc39's fastify-metrics exposes it:
 * `http_request_duration_seconds` (histogram) and `http_request_summary_seconds` (summary), by
 * method, route pattern and status code. Fastify's own clock times the request (what
 * `responseTime` logs), and each label set's series are looked up once, then reused: a request
 * costs two observations, with no timer closure or label object built for it.
 */
class RouteTimings {
  readonly #histogram: promClient.Histogram<RouteLabel>
  readonly #summary: promClient.Summary<RouteLabel>
  /** method → route pattern → status code → series; a route is here once registered, if measured. */
  readonly #series = new Map<string, Map<string, Map<number, RouteSeries>>>()

  constructor (registry: promClient.Registry) {
    const registers = [registry]
    this.#histogram = new Histogram({ name: 'http_request_duration_seconds', help: 'request duration in seconds', labelNames: ROUTE_LABELS, registers })
    this.#summary = new Summary({ name: 'http_request_summary_seconds', help: 'request duration in seconds summary', labelNames: ROUTE_LABELS, registers })
  }

  /** onRoute: registered routes only, so random URLs cannot blow up the label set. */
  add (route: RouteOptions): void {
    if (UNMEASURED_ROUTES.some(pattern => pattern.test(route.url))) return
    for (const method of [route.method].flat()) {
      if (UNMEASURED_METHODS.has(method)) continue
      let routes = this.#series.get(method)
      if (routes === undefined) this.#series.set(method, routes = new Map())
      routes.set(route.url, new Map())
    }
  }

  /** onResponse. */
  observe (request: FastifyRequest, reply: FastifyReply): void {
    const route = request.routeOptions.url
    if (route === undefined) return
    const byStatus = this.#series.get(request.method)?.get(route)
    if (byStatus === undefined) return
    const status = reply.statusCode
    let series = byStatus.get(status)
    if (series === undefined) {
      const labels = { method: request.method, route, status_code: status }
      series = { histogram: this.#histogram.labels(labels), summary: this.#summary.labels(labels) }
      byStatus.set(status, series)
    }
    const seconds = reply.elapsedTime / 1000
    series.histogram.observe(seconds)
    series.summary.observe(seconds)
  }
}

/**
 * GET /-/metrics in Prometheus text: process metrics, per-route request durations (RouteTimings)
 * and the service's own. Must be registered before the routes it measures. With `expose` false
 * (lc39's EXPOSE_METRICS) there is no such route, and no request is timed for it: nobody could
 * read it.
 */
export function registerMetrics (app: FastifyInstance, metrics: ServiceMetrics, expose = true): void {
  if (!expose) return
  const timings = new RouteTimings(metrics.registry)
  app.addHook('onRoute', route => { timings.add(route) })
  app.addHook('onResponse', (request, reply, done) => {
    timings.observe(request, reply)
    done()
  })
  const exposed = Registry.merge([processMetrics(), metrics.registry])
  app.get('/-/metrics', { logLevel: 'error', schema: { hide: true } }, async (_request, reply) => {
    return await reply.type(exposed.contentType).send(await exposed.metrics())
  })
}
