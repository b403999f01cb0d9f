import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance, FastifyRequest, FastifySchemaValidationError } from 'fastify'
import type { SchemaErrorDataVar } from 'fastify/types/schema.js'
import { isUpstreamError, type UpstreamTarget } from '../upstream/errors.js'
import { StoreConflictError } from '../store/errors.js'
import { Refusal, SERVICE_ERROR_PREFIX, type RefusalKind } from '../lib/errors.js'

/**
 * How a route words the refusals of the domain: `Failed <label>: <reason>`, where `:name` in the
 * label stands for that path parameter. A refusal kind may have a label of its own (2.1 quirks).
 */
export type RefusalWording = { label: string } & Partial<Record<RefusalKind, string>>

declare module 'fastify' {
  interface FastifyContextConfig {
    refusal?: RefusalWording
  }
}

const TARGET_NAMES: Record<UpstreamTarget, string> = { kaleyra: 'Kaleyra', crud: 'CRUD', identity: 'Identity', events: 'Events receiver' }

function fieldPath (dataVar: string, instancePath: string): string {
  return dataVar + instancePath.replace(/\//g, '.')
}

/**
 * Validation messages in the platform's style: `body.start_date must match format "date-time"`.
 * For a union (participants as array or object) the most specific error is reported.
 */
export function formatSchemaErrors (errors: FastifySchemaValidationError[], dataVar: SchemaErrorDataVar): Error {
  const relevant = errors.filter(e => e.keyword !== 'anyOf' && e.keyword !== 'oneOf')
  const pool = relevant.length > 0 ? relevant : errors
  const depth = Math.max(...pool.map(e => e.instancePath.split('/').length))
  const atDepth = pool.filter(e => e.instancePath.split('/').length === depth)
  // Beside another error at the same place, a type error comes from a union branch the value is
  // not (participants as an object missing `number` is not "must be array").
  const untyped = atDepth.filter(e => e.keyword !== 'type')
  const deepest = untyped.length > 0 && untyped.length < atDepth.length ? untyped : atDepth
  const first = deepest[0]
  let message: string
  const types = deepest.filter(e => e.keyword === 'type' && e.instancePath === first.instancePath)
  if (types.length > 1) {
    message = `${fieldPath(dataVar, first.instancePath)} must be ${types.map(e => String((e.params as { type?: string }).type)).join(' or ')}`
  } else if (first.keyword === 'additionalProperties') {
    message = `${fieldPath(dataVar, first.instancePath)} must not have property ${String((first.params as { additionalProperty?: string }).additionalProperty)}`
  } else if (first.keyword === 'required') {
    message = `${fieldPath(dataVar, first.instancePath)} must have required property '${String((first.params as { missingProperty?: string }).missingProperty)}'`
  } else {
    message = `${fieldPath(dataVar, first.instancePath)} ${first.message ?? 'is invalid'}`
  }
  return new Error(message)
}

/** The label of a refusal: the route's wording, else its method and path. */
function refusalLabel (request: FastifyRequest, refusal: Refusal): string {
  const wording = request.routeOptions.config.refusal
  const label = wording?.[refusal.kind] ?? wording?.label ?? `${request.method} ${request.routeOptions.url ?? request.url}`
  const params = request.params as Record<string, string | undefined>
  return label.replace(/:(\w+)/g, (name: string, param: string) => params[param] ?? name)
}

/**
 * One error handler: refusals and contract errors answer `{ error }`, Fastify's own 4xx keep its
 * shape, upstream failures become 502/504 (503 when rate limited) without any upstream detail,
 * anything else is a logged 500.
 */
export function installErrorHandler (app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof Refusal) {
      request.log.info({ statusCode: err.statusCode, code: err.kind }, 'request refused')
      return reply.code(err.statusCode).send({ error: `Failed ${refusalLabel(request, err)}: ${err.reason}` })
    }
    if (typeof err.code === 'string' && err.code.startsWith(SERVICE_ERROR_PREFIX)) {
      request.log.info({ statusCode: err.statusCode, code: err.code }, 'request refused')
      return reply.code(err.statusCode ?? 400).send({ error: err.message })
    }
    if (isUpstreamError(err)) {
      const timeout = err.failure === 'timeout'
      request.log.error({ err, target: err.target, operation: err.operation }, 'upstream call failed')
      if (err.upstreamStatus === 429) {
        // Rate limited: nothing was done; the caller may try again when the upstream said.
        if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds))
        return reply.code(503).send({ error: `${TARGET_NAMES[err.target]} service unavailable` })
      }
      return reply.code(timeout ? 504 : 502).send({ error: `${TARGET_NAMES[err.target]} service ${timeout ? 'timeout' : 'error'}` })
    }
    if (err instanceof StoreConflictError) {
      return reply.code(409).send({ error: 'The teleconsultation was modified concurrently, retry' })
    }
    const status = err.statusCode ?? 500
    if (status < 500) {
      request.log.info(
        { statusCode: status, code: err.code },
        err.validation !== undefined ? 'invalid request' : 'request refused'
      )
      return reply
        .code(status)
        .send({ statusCode: status, code: err.code, error: httpReason(status), message: err.message })
    }
    request.log.error({ err }, 'unexpected error')
    return reply.code(500).send({ statusCode: 500, error: 'Internal Server Error', message: 'Something went wrong' })
  })
}

function httpReason (status: number): string {
  return STATUS_CODES[status] ?? 'Error'
}
