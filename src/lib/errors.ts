import createError from '@fastify/error'

// Errors whose message the 2.1 contract gives whole: answered as `{ "error": "<message>" }`.
// The `TCS_` prefix is how the error handler recognises them.
export const UnauthorizedError = createError('TCS_UNAUTHORIZED', 'Unauthorized user', 401)
/** Verified-identity mode (AUTH_JWKS_URL, AUTH_JWT_SECRET): no bearer token, or one that does not verify. */
export const TokenRefused = createError<[string]>('TCS_TOKEN_REFUSED', 'Unauthorized: %s', 401)
export const ForbiddenError = createError('TCS_FORBIDDEN', 'Forbidden', 403)
export const NotFoundError = createError<[string]>('TCS_NOT_FOUND', '%s', 404)
export const ConflictError = createError<[string]>('TCS_CONFLICT', '%s', 409)
export const PayloadTooLargeError = createError<[string]>('TCS_PAYLOAD_TOO_LARGE', '%s', 413)
/** The service cannot take the request for now (a resource of its own is exhausted); the route says when to retry. */
export const TemporarilyUnavailableError = createError<[string]>('TCS_TEMPORARILY_UNAVAILABLE', '%s', 503)

export const SERVICE_ERROR_PREFIX = 'TCS_'

export type RefusalKind =
  | 'BadSchedule' | 'BadParticipants' | 'TooManyParticipants' | 'NoPlusUser' | 'Frozen' | 'ConcurrentUpdate'
  | 'NoRole' | 'BadUpload' | 'UnsupportedUpload' | 'UploadTooLarge' | 'UnknownBackground' | 'UploadIdle' | 'TooManyUploads'

/**
 * Why the service refuses a request, in the domain's words only. The route that received it
 * answers `{ "error": "Failed <label>: <reason>" }`, the label coming from its `config.refusal`
 * (see error-handler.ts), so no HTTP method or path travels through the domain.
 */
export abstract class Refusal extends Error {
  abstract readonly kind: RefusalKind
  /**
   * The status of the answer: the caller's mistake (400), the state of the record (409), the upload (408, 413, 415,
   * 429).
   */
  abstract readonly statusCode: 400 | 408 | 409 | 413 | 415 | 429
  readonly reason: string

  constructor (reason: string) {
    super(reason)
    this.reason = reason
  }
}

/** Dates missing, contradictory, out of range, or a duration outside the limits. */
export class BadSchedule extends Refusal {
  readonly kind = 'BadSchedule'
  readonly statusCode = 400
}

/** A participant the service cannot use: no id, duplicated, unknown, without groups or name. */
export class BadParticipants extends Refusal {
  readonly kind = 'BadParticipants'
  readonly statusCode = 400
}

/** More participants than Kaleyra or the expected number allows. */
export class TooManyParticipants extends Refusal {
  readonly kind = 'TooManyParticipants'
  readonly statusCode = 400
}

/** A complete participant list without anyone of role plus: Kaleyra needs one in every room. */
export class NoPlusUser extends Refusal {
  readonly kind = 'NoPlusUser'
  readonly statusCode = 400

  constructor () {
    super('no plus user in room')
  }
}

/** The room exists and the start is within IMMUTABLE_PERIOD_MS (or past). */
export class Frozen extends Refusal {
  readonly kind = 'Frozen'
  readonly statusCode = 409

  constructor () {
    super('teleconsultation can no longer be modified')
  }
}

/** Other writers kept changing the record: the change was given up after a few attempts. */
export class ConcurrentUpdate extends Refusal {
  readonly kind = 'ConcurrentUpdate'
  readonly statusCode = 409

  constructor () {
    super('the teleconsultation was modified concurrently, retry')
  }
}

/** A caller without a Kaleyra user yet, whose groups give no Kaleyra role. */
export class NoRole extends Refusal {
  readonly kind = 'NoRole'
  readonly statusCode = 400

  constructor () {
    super('none of the user\'s groups is listed in the service privileges')
  }
}

/** A malformed, empty or interrupted upload, or an image Kaleyra refused. */
export class BadUpload extends Refusal {
  readonly kind = 'BadUpload'
  readonly statusCode = 400
}

/** Not a JPEG, or not multipart at all. */
export class UnsupportedUpload extends Refusal {
  readonly kind = 'UnsupportedUpload'
  readonly statusCode = 415
}

export class UploadTooLarge extends Refusal {
  readonly kind = 'UploadTooLarge'
  readonly statusCode = 413

  constructor (limit: string) {
    super(`the file is larger than ${limit}`)
  }
}

/** An alias that is not among the company's virtual backgrounds. */
export class UnknownBackground extends Refusal {
  readonly kind = 'UnknownBackground'
  readonly statusCode = 400

  constructor (alias: string) {
    super(`${alias} is not a virtual background of the company`)
  }
}

/** The client sent nothing of its upload for UPLOAD_IDLE_TIMEOUT_MS: the upload is abandoned. */
export class UploadIdle extends Refusal {
  readonly kind = 'UploadIdle'
  readonly statusCode = 408

  constructor (timeoutMs: number) {
    super(`nothing of the upload arrived for ${timeoutMs} ms`)
  }
}

/** The caller already has UPLOADS_PER_CALLER uploads in progress on this replica. */
export class TooManyUploads extends Refusal {
  readonly kind = 'TooManyUploads'
  readonly statusCode = 429
  /** Seconds the route asks the caller to wait (Retry-After). */
  readonly retryAfterSeconds = 5

  constructor (limit: number) {
    super(`the caller already has ${limit} uploads in progress, retry when one has ended`)
  }
}
