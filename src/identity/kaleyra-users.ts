import { createHash } from 'node:crypto'
import type { KaleyraClient } from '../kaleyra/client.js'
import type { KaleyraRole } from '../kaleyra/wire.js'
import { StoreDuplicateError } from '../store/errors.js'
import type { StoreContext, UserMapStore } from '../store/types.js'

const ID_PREFIX = 'tcs-'

/**
 * The Kaleyra user id of an external user: a hash, so it fits Kaleyra's charset and length,
 * never collides in practice (160 bits), carries no personal data, and is the same in every
 * process. Creating a user is therefore idempotent: a 409 from Kaleyra means "already exists".
 */
export function kaleyraUserIdFor (externalId: string): string {
  return ID_PREFIX + createHash('sha256').update(externalId, 'utf8').digest('hex').slice(0, 40)
}

export interface KaleyraUserRequest {
  userId: string
  role: KaleyraRole
  fullName?: string
  groups?: string[]
}

export type KaleyraUsers = ReturnType<typeof createKaleyraUsers>

/** Maps external users to Kaleyra users, creating them on first use (user-id map + Kaleyra). */
export function createKaleyraUsers (deps: { kaleyra: KaleyraClient, userMap: UserMapStore }) {
  const inFlight = new Map<string, Promise<string>>()

  async function create (user: KaleyraUserRequest, ctx: StoreContext): Promise<string> {
    const existing = await deps.userMap.find(user.userId)
    if (existing !== null) return existing.bandyerId
    const bandyerId = kaleyraUserIdFor(user.userId)
    await deps.kaleyra.createUser(bandyerId, user.role)
    try {
      await deps.userMap.insert({ receivedUserId: user.userId, bandyerId, role: user.role, fullName: user.fullName, groups: user.groups }, ctx)
      return bandyerId
    } catch (err) {
      if (!(err instanceof StoreDuplicateError)) throw err
      // Another replica mapped the same user first: its row wins (same id unless a legacy row).
      const winner = await deps.userMap.find(user.userId)
      return winner?.bandyerId ?? bandyerId
    }
  }

  return {
    /** Resolves the Kaleyra id of a user; concurrent calls for the same new user share one creation. */
    async ensure (user: KaleyraUserRequest, ctx: StoreContext = {}): Promise<string> {
      const pending = inFlight.get(user.userId)
      if (pending !== undefined) return await pending
      const promise = create(user, ctx).finally(() => inFlight.delete(user.userId))
      inFlight.set(user.userId, promise)
      return await promise
    }
  }
}
