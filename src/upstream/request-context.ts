import type { BaseLogger } from 'pino'

/** The logging the services do: pino's calls, as Fastify's loggers (app.log, request.log) offer them. */
export type Log = Pick<BaseLogger, 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'>

/**
 * What a request hands, unchanged, to the services, stores and upstream clients working for it:
 * who is calling, what to forward on their behalf, and where to log. Built once per API request
 * (identity/request-context.ts); never logged as a whole, since the forwarded headers are credentials.
 */
export interface RequestContext {
  /** External id of the caller (userIdPathInRequest), or null when absent. */
  readonly callerId: string | null
  /** Groups of the caller from the groups header. */
  readonly callerGroups: string[]
  /** The client-type header, else DEFAULT_CLIENT_TYPE; null when neither. */
  readonly clientType: string | null
  /** Request headers to forward to the identity service (already filtered). */
  readonly forwardHeaders: Readonly<Record<string, string>>
  /**
   * What custom-plugin-lib's `getHttpClient` forwarded to the platform's services (CRUD, identity),
   * never to Kaleyra: `x-request-id` (the request id), `x-forwarded-for/-proto/-host`, the caller's
   * platform headers under their configured names (user id, groups, client type, backoffice as
   * `1`, user properties as JSON) and the ADDITIONAL_HEADERS_TO_PROXY ones.
   */
  readonly platformHeaders: Readonly<Record<string, string>>
  /** The request id (x-request-id when the caller sent one), as `reqId` in the request's log lines. */
  readonly requestId: string
  /** The request's logger: what is logged through it carries `reqId`. */
  readonly log: Log
}
