import type { IncomingHttpHeaders } from 'node:http'
import { commaList, type Env } from '../config/env.js'
import { ForbiddenError } from '../lib/errors.js'
import type { RequestContext } from '../upstream/request-context.js'
import type { IdentityProvider } from './types.js'

/**
 * Who may change teleconsultations and who may obtain SDK tokens. Both checks are open unless
 * configured (2.1 behaviour): WRITE_GROUPS and/or WRITE_BACKOFFICE close the writes,
 * CREDENTIALS_GROUPS closes /credentials. A refused caller gets 403 before anything is done.
 */
export interface Authorization {
  /** Throws ForbiddenError unless the caller may create, change or delete teleconsultations. */
  requireWriter: (ctx: RequestContext, headers: IncomingHttpHeaders) => Promise<void>
  /** Throws ForbiddenError unless the caller may obtain Kaleyra SDK credentials. */
  requireCredentialsUser: (ctx: RequestContext) => Promise<void>
}

/** The platform sets the backoffice header to `true` on requests that came through the back-office gateway. */
function fromBackoffice (headers: IncomingHttpHeaders, header: string): boolean {
  const value = headers[header]
  return typeof value === 'string' && value.trim().toLowerCase() === 'true'
}

export function createAuthorization (deps: { env: Env, identity: IdentityProvider }): Authorization {
  const writeGroups = commaList(deps.env.WRITE_GROUPS)
  const backofficeHeader = deps.env.WRITE_BACKOFFICE ? deps.env.BACKOFFICE_HEADER_KEY.trim().toLowerCase() : ''
  const credentialsGroups = commaList(deps.env.CREDENTIALS_GROUPS)
  const writesOpen = writeGroups.length === 0 && backofficeHeader === ''

  async function inAny (ctx: RequestContext, allowed: string[]): Promise<boolean> {
    if (allowed.length === 0) return false
    const groups = await deps.identity.callerGroups(ctx)
    return groups.some(g => allowed.includes(g))
  }

  return {
    async requireWriter (ctx, headers) {
      if (writesOpen) return
      if (backofficeHeader !== '' && fromBackoffice(headers, backofficeHeader)) return
      if (await inAny(ctx, writeGroups)) return
      throw new ForbiddenError()
    },
    async requireCredentialsUser (ctx) {
      if (credentialsGroups.length === 0) return
      if (await inAny(ctx, credentialsGroups)) return
      throw new ForbiddenError()
    }
  }
}
