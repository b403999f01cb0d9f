import { Type } from '@sinclair/typebox'

/**
 * An error body: `{ error }` for the service's documented errors, Fastify's
 * `{ statusCode, code, error, message }` for validation and protocol errors.
 */
export function errorResponse (description: string, example: string) {
  return Type.Object({
    error: Type.String(),
    statusCode: Type.Optional(Type.Integer()),
    code: Type.Optional(Type.String()),
    message: Type.Optional(Type.String())
  }, { description, examples: [{ error: example }] })
}

/** Response schemas shared by every route that reaches an upstream service. */
export const upstreamErrors = {
  502: errorResponse('An upstream service (Kaleyra, CRUD Service, identity service) failed', 'Kaleyra service error'),
  504: errorResponse('An upstream service did not answer in time', 'Kaleyra service timeout')
}

/** An empty answer (204, and the legacy 201 of the participants route). */
export const NoContent = Type.Unsafe<undefined>({ type: 'null', description: 'No content' })
