import type { AppConfig } from '../config/index.js'
import type { KaleyraClient } from '../kaleyra/client.js'
import type { KaleyraUsers } from '../users/kaleyra-users.js'
import { roleForGroups } from '../users/roles.js'
import type { IdentityProvider } from '../identity/types.js'
import { NoRole, UnauthorizedError } from '../lib/errors.js'
import type { UserMapStore } from '../store/types.js'
import type { RequestContext } from '../upstream/request-context.js'

export interface SdkAccess {
  accessToken: string
  expiresAt: string
  bandyerUserId: string
}

export type CredentialsService = ReturnType<typeof createCredentialsService>

/** A Kaleyra SDK token for the caller, whose Kaleyra user is created on first use. */
export function createCredentialsService (deps: {
  config: AppConfig
  kaleyra: KaleyraClient
  users: KaleyraUsers
  userMap: UserMapStore
  identity: IdentityProvider
}) {
  const { privileges } = deps.config.service

  /** A user already mapped keeps their Kaleyra user; only a new one needs groups (and a role). */
  async function kaleyraUserOf (callerId: string, ctx: RequestContext): Promise<string> {
    const existing = await deps.userMap.find(callerId, ctx)
    if (existing !== null) return existing.bandyerId
    const groups = await deps.identity.callerGroups(ctx)
    const role = roleForGroups(groups, privileges)
    if (role === null) throw new NoRole()
    return await deps.users.ensure({ userId: callerId, role, groups }, ctx)
  }

  return {
    async issue (ctx: RequestContext, expiresIn: number): Promise<SdkAccess> {
      if (ctx.callerId === null) throw new UnauthorizedError()
      const bandyerUserId = await kaleyraUserOf(ctx.callerId, ctx)
      const credentials = await deps.kaleyra.createSdkCredentials(bandyerUserId, expiresIn)
      return { accessToken: credentials.accessToken, expiresAt: credentials.expiresAt, bandyerUserId }
    }
  }
}
