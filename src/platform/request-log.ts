import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'

// Levels at which the `request completed` line is written: below them its fields are not even built.
const INFO_OR_FINER = new Set(['trace', 'debug', 'info'])

function header (request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

/** The request part of the platform's log fields (ECS names, camelCase, nested). Never headers with credentials. */
function requestFields (request: FastifyRequest) {
  return {
    http: { request: { method: request.method, userAgent: { original: header(request, 'user-agent') } } },
    // The path only: a query string is the caller's business and may carry anything.
    url: { path: request.url.split('?')[0], params: request.params },
    host: {
      hostname: request.hostname,
      forwardedHost: header(request, 'x-forwarded-host'),
      ip: header(request, 'x-forwarded-for') ?? request.ip
    }
  }
}

function responseFields (request: FastifyRequest, reply: FastifyReply) {
  const fields = requestFields(request)
  const bytes = Number(reply.getHeader('content-length'))
  return {
    ...fields,
    http: {
      ...fields.http,
      response: { statusCode: reply.statusCode, body: { bytes: Number.isFinite(bytes) ? bytes : undefined } }
    },
    responseTime: reply.elapsedTime
  }
}

/**
 * lc39-style request logs in place of Fastify's: `incoming request` at trace and one
 * `request completed` line at info per request, with the request id (`reqId`, from x-request-id)
 * bound by Fastify. Routes with `logLevel: 'error'` (probes, metrics) are therefore not logged.
 */
export class PlatformLogController extends LogController {
  override incomingRequest (request: FastifyRequest): void {
    if (request.log.level === 'trace') request.log.trace(requestFields(request), 'incoming request')
  }

  /** The `request completed` line already says 404, without the query string Fastify's line would carry. */
  override routeNotFound (): void {}

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error !== null && error !== undefined) request.log.error({ ...responseFields(request, reply), err: error }, 'request errored')
    else if (INFO_OR_FINER.has(request.log.level)) request.log.info(responseFields(request, reply), 'request completed')
  }
}
