import { UpstreamError, type UpstreamFailure } from '../upstream/errors.js'
import type { AnswerDiagnosis } from './shape.js'

export interface FormatErrorDetails {
  /** What the answer looked like (key paths, never values). */
  diagnosis?: AnswerDiagnosis
  /** A room the failed call did create (its answer lacked links): whoever catches this deletes it. */
  roomId?: string
  /** The call may have had its effect (a 2xx we cannot read). */
  ambiguous?: boolean
}

/** Kaleyra answered with something we cannot read (502). */
export class KaleyraFormatError extends UpstreamError {
  readonly diagnosis: AnswerDiagnosis | undefined
  readonly roomId: string | undefined
  constructor (operation: string, upstreamStatus?: number, details: FormatErrorDetails = {}) {
    super({ target: 'kaleyra', operation, failure: 'format', upstreamStatus, ambiguous: details.ambiguous })
    this.name = 'KaleyraFormatError'
    this.diagnosis = details.diagnosis
    this.roomId = details.roomId
  }
}

/**
 * Kaleyra refused a request with a 4xx we did not expect. `errorName` is Kaleyra's error
 * identifier (e.g. `validation_error`), never its free-text message.
 */
export class KaleyraRejectedError extends UpstreamError {
  readonly errorName: string | undefined
  constructor (operation: string, upstreamStatus: number, errorName: string | undefined) {
    super({ target: 'kaleyra', operation, failure: 'status', upstreamStatus })
    this.name = 'KaleyraRejectedError'
    this.errorName = errorName
  }
}

/**
 * A 5xx or a 429 that was not (or could no longer be) retried. A 429 refused the request, so it
 * is never ambiguous; the service answers it 503 with the Retry-After Kaleyra gave.
 */
export function kaleyraStatusError (
  operation: string,
  upstreamStatus: number,
  ambiguous = false,
  retryAfterSeconds?: number
): UpstreamError {
  const failure: UpstreamFailure = 'status'
  return new UpstreamError({ target: 'kaleyra', operation, failure, upstreamStatus, ambiguous: upstreamStatus !== 429 && ambiguous, retryAfterSeconds })
}
