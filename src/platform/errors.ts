import createError from '@fastify/error'

// Errors whose message is part of the API contract: answered as `{ "error": "<message>" }`.
// The `TCS_` prefix is how the error handler recognises them.
export const BadRequestError = createError<[string]>('TCS_BAD_REQUEST', '%s', 400)
export const UnauthorizedError = createError('TCS_UNAUTHORIZED', 'Unauthorized user', 401)
export const ForbiddenError = createError('TCS_FORBIDDEN', 'Forbidden', 403)
/** An authenticated caller whose groups give no Kaleyra role (POST /credentials). */
export const NotFoundError = createError<[string]>('TCS_NOT_FOUND', '%s', 404)
export const ConflictError = createError<[string]>('TCS_CONFLICT', '%s', 409)
export const PayloadTooLargeError = createError<[string]>('TCS_PAYLOAD_TOO_LARGE', '%s', 413)
export const UnsupportedMediaTypeError = createError<[string]>('TCS_UNSUPPORTED_MEDIA_TYPE', '%s', 415)

export const SERVICE_ERROR_PREFIX = 'TCS_'
