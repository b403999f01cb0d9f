import { STATUS_CODES } from 'node:http'
import { Type } from './typebox.js'

/** Fastify's shape, for the errors Fastify raises itself (validation, body parsing). */
export function fastifyErrorExample (statusCode: 400 | 413 | 415, code: string, message: string) {
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message }
}

/** A schema validation error as the service answers it, e.g. `body.start_date must match format "date-time"`. */
export function validationErrorExample (message: string) {
  return fastifyErrorExample(400, 'FST_ERR_VALIDATION', message)
}

/**
 * An error body: `{ error }` for the service's documented errors, Fastify's
 * `{ statusCode, code, error, message }` for validation and protocol errors. A string example is
 * a service error message; several examples are listed one by one in the OpenAPI document.
 */
export function errorResponse (
  description: string,
  ...examples: Array<string | ReturnType<typeof fastifyErrorExample>>
) {
  return Type.Object(
    {
      error: Type.String(),
      statusCode: Type.Optional(Type.Integer()),
      code: Type.Optional(Type.String()),
      message: Type.Optional(Type.String())
    },
    { description, examples: examples.map(example => (typeof example === 'string' ? { error: example } : example)) }
  )
}

/** Response schemas shared by every route that reaches an upstream service. */
export const upstreamErrors = {
  502: errorResponse('An upstream service (Kaleyra, CRUD Service, identity service) failed', 'Kaleyra service error'),
  503: errorResponse('Kaleyra refused the call for now (rate limit, 429); the Retry-After header says when to try again', 'Kaleyra service unavailable'),
  504: errorResponse('An upstream service did not answer in time', 'Kaleyra service timeout')
}

/** Response schemas of the routes that take a JSON body. */
export const jsonBodyErrors = {
  413: errorResponse('Body too large', fastifyErrorExample(413, 'FST_ERR_CTP_BODY_TOO_LARGE', 'Request body is too large')),
  415: errorResponse('Body is not JSON', fastifyErrorExample(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE', 'Unsupported Media Type'))
}

/** An empty answer (204, and the legacy 201 of the participants route). */
export const NoContent = Type.Unsafe<undefined>({ type: 'null', description: 'No content' })

/** The 415 of the routes that also take a form-encoded body. */
export const formOrJsonUnsupported = errorResponse('Body is neither JSON nor form-encoded', fastifyErrorExample(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE', 'Unsupported Media Type'))

/**
 * Routes that act for the caller name it with the user headers the platform gateway sets. In the
 * OpenAPI document they are security schemes, so the UI's "Authorize" button can send them.
 */
export const CALLER_SECURITY = [{ caller: [], callerGroups: [] }]
/** Routes that only need to know who the caller is. */
export const CALLER_ID_SECURITY = [{ caller: [] }]

/** Routes with a flat body that take it form-encoded as well (custom-plugin-lib registered @fastify/formbody). */
export const FORM_OR_JSON = ['application/json', 'application/x-www-form-urlencoded']
