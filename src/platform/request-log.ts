import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'

// Levels at which the `request completed` line is written: below them its fields are not even built.
const INFO_OR_FINER = new Set(['trace', 'debug', 'info'])

function header (request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

/** The path only: a query string is the caller's business and may carry anything. */
function pathOf (url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

/**
 * The request part of the platform's log fields (ECS names, camelCase, nested). Never headers with
 * credentials. The client address is X-Forwarded-For as sent, else the socket's, as lc39 logs it;
 * with TRUST_PROXY set, the address Fastify believes (request.ip).
 */
function requestFields (request: FastifyRequest, trustProxySet: boolean) {
  return {
    http: { request: httpRequest(request) },
    url: { path: pathOf(request.url), params: request.params },
    host: hostFields(request, trustProxySet)
  }
}

const httpRequest = (request: FastifyRequest) => ({ method: request.method, userAgent: { original: header(request, 'user-agent') } })

function hostFields (request: FastifyRequest, trustProxySet: boolean) {
  return {
    hostname: request.hostname,
    forwardedHost: header(request, 'x-forwarded-host'),
    ip: trustProxySet ? request.ip : header(request, 'x-forwarded-for') ?? request.ip
  }
}

/** requestFields with the response's, built in one go (a line per request at info). */
function responseFields (request: FastifyRequest, reply: FastifyReply, trustProxySet: boolean) {
  const bytes = Number(reply.getHeader('content-length'))
  return {
    http: {
      request: httpRequest(request),
      response: { statusCode: reply.statusCode, body: { bytes: Number.isFinite(bytes) ? bytes : undefined } }
    },
    url: { path: pathOf(request.url), params: request.params },
    host: hostFields(request, trustProxySet),
    responseTime: reply.elapsedTime
  }
}

/**
 * lc39-style request logs in place of Fastify's: `incoming request` at trace and one
 * `request completed` line at info per request, with the request id (`reqId`, from x-request-id)
 * bound by Fastify. Routes with `logLevel: 'error'` (probes, metrics) are therefore not logged.
 */
export class PlatformLogController extends LogController {
  readonly #trustProxySet: boolean

  /** `trustProxySet`: TRUST_PROXY is set, so the logged client address is request.ip. */
  constructor (opts: { trustProxySet?: boolean } = {}) {
    super()
    this.#trustProxySet = opts.trustProxySet ?? false
  }

  override incomingRequest (request: FastifyRequest): void {
    if (request.log.level === 'trace') request.log.trace(requestFields(request, this.#trustProxySet), 'incoming request')
  }

  /** The `request completed` line already says 404, without the query string Fastify's line would carry. */
  override routeNotFound (): void {}

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error !== null && error !== undefined) request.log.error({ ...responseFields(request, reply, this.#trustProxySet), err: error }, 'request errored')
    else if (INFO_OR_FINER.has(request.log.level)) request.log.info(responseFields(request, reply, this.#trustProxySet), 'request completed')
  }
}
