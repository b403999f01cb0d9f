import { UpstreamError, type UpstreamFailure } from '../upstream/errors.js'

/** Kaleyra answered with something we cannot read (502). */
export class KaleyraFormatError extends UpstreamError {
  constructor (operation: string, upstreamStatus?: number) {
    super({ target: 'kaleyra', operation, failure: 'format', upstreamStatus })
    this.name = 'KaleyraFormatError'
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

export function kaleyraStatusError (operation: string, upstreamStatus: number, ambiguous = false): UpstreamError {
  const failure: UpstreamFailure = 'status'
  return new UpstreamError({ target: 'kaleyra', operation, failure, upstreamStatus, ambiguous })
}
