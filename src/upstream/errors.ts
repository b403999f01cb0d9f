/** `events`: the receiver at EVENTS_WEBHOOK_URL. */
export type UpstreamTarget = 'kaleyra' | 'crud' | 'identity' | 'events'

/**
 * timeout: no answer in time (mapped to 504); network: connection refused/reset;
 * status: an unexpected HTTP status; format: an answer we cannot read. All but timeout map to 502.
 */
export type UpstreamFailure = 'timeout' | 'network' | 'status' | 'format'

/**
 * A failed call to a service we depend on. The message names the target and operation only:
 * it never carries the upstream body, headers or credentials, so it is safe to log.
 */
export class UpstreamError extends Error {
  readonly target: UpstreamTarget
  readonly operation: string
  readonly failure: UpstreamFailure
  readonly upstreamStatus: number | undefined
  /** True when the request may have been applied upstream although we got no usable answer. */
  readonly ambiguous: boolean
  /** A 429 (or 503) said when to try again (its Retry-After, in seconds). */
  readonly retryAfterSeconds: number | undefined

  constructor (opts: {
    target: UpstreamTarget
    operation: string
    failure: UpstreamFailure
    upstreamStatus?: number
    ambiguous?: boolean
    code?: string
    retryAfterSeconds?: number
  }) {
    const detail = opts.upstreamStatus !== undefined ? ` (status ${opts.upstreamStatus})` : opts.code !== undefined ? ` (${opts.code})` : ''
    super(`${opts.target} ${opts.operation} failed: ${opts.failure}${detail}`)
    this.name = 'UpstreamError'
    this.target = opts.target
    this.operation = opts.operation
    this.failure = opts.failure
    this.upstreamStatus = opts.upstreamStatus
    this.ambiguous = opts.ambiguous ?? false
    this.retryAfterSeconds = opts.retryAfterSeconds
  }
}

export function isUpstreamError (err: unknown): err is UpstreamError {
  return err instanceof UpstreamError
}
