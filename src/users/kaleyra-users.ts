import { createHmac } from 'node:crypto'
import type { KaleyraClient, UpdateUserRequest } from '../kaleyra/client.js'
import type { KaleyraRole } from '../kaleyra/model.js'
import { StoreDuplicateError } from '../store/errors.js'
import type { StoreContext, UserMapStore } from '../store/types.js'

const ID_PREFIX = 'tcs-'
/** How many Kaleyra users a process remembers as checked `plus` (oldest forgotten first). */
const KNOWN_PLUS_LIMIT = 10_000

/**
 * The Kaleyra id of a new external user: a keyed hash (HMAC-SHA256 with KALEYRA_USER_ID_SECRET),
 * so it fits Kaleyra's charset and length, never collides in practice (160 bits), and is the
 * same in every process sharing the secret (creating a user is therefore idempotent: a duplicate
 * from Kaleyra means "already exists"), yet nobody without the secret can tell from an id seen
 * in a room whose e-mail or tax code it stands for. Users already mapped keep their ids.
 */
export function kaleyraUserIdFor (externalId: string, secret: string): string {
  return ID_PREFIX + createHmac('sha256', secret).update(externalId, 'utf8').digest('hex').slice(0, 40)
}

export interface KaleyraUserRequest {
  userId: string
  role: KaleyraRole
  fullName?: string
  groups?: string[]
}

export type KaleyraUsers = ReturnType<typeof createKaleyraUsers>

/**
 * Maps external users to Kaleyra users, creating them on first use (user-id map + Kaleyra).
 * A Kaleyra role is set at creation; someone first seen as `basic` (a patient) who later takes
 * part as `plus` (a doctor) is upgraded, since Kaleyra wants a plus user in every room. That
 * costs one Kaleyra read per such user and process: users checked plus are remembered.
 * A creation that meets an existing user adopts it, reactivating it when Kaleyra says it is
 * inactive (Kaleyra refuses to create a user with the id of an inactive one).
 */
export function createKaleyraUsers (deps: { kaleyra: KaleyraClient, userMap: UserMapStore, idSecret: string }) {
  const inFlight = new Map<string, Promise<string>>()
  const knownPlus = new Set<string>()

  function rememberPlus (bandyerId: string): void {
    knownPlus.add(bandyerId)
    if (knownPlus.size > KNOWN_PLUS_LIMIT) knownPlus.delete(knownPlus.values().next().value as string)
  }

  /**
   * Makes an existing Kaleyra user usable with `role`: active, and plus when needed (never
   * downgraded). A user Kaleyra does not know is left to the room creation to report.
   */
  async function adopt (bandyerId: string, role: KaleyraRole): Promise<void> {
    const user = await deps.kaleyra.getUser(bandyerId)
    if (user === null) return
    const changes: UpdateUserRequest = {
      ...(user.active === false ? { active: true } : {}),
      ...(role === 'plus' && user.role !== 'plus' ? { role } : {})
    }
    if (Object.keys(changes).length > 0 && !await deps.kaleyra.updateUser(bandyerId, changes)) return
    if (role === 'plus') rememberPlus(bandyerId)
  }

  async function ensurePlus (bandyerId: string): Promise<void> {
    if (!knownPlus.has(bandyerId)) await adopt(bandyerId, 'plus')
  }

  async function create (user: KaleyraUserRequest, ctx: StoreContext): Promise<string> {
    const existing = await deps.userMap.find(user.userId, ctx)
    if (existing !== null) {
      if (user.role === 'plus' && existing.role !== 'plus') await ensurePlus(existing.bandyerId)
      return existing.bandyerId
    }
    const bandyerId = kaleyraUserIdFor(user.userId, deps.idSecret)
    const { created } = await deps.kaleyra.createUser(bandyerId, user.role)
    // Not created: the user was there already (an earlier attempt, another replica, a user
    // deactivated since), maybe as basic.
    if (!created) await adopt(bandyerId, user.role)
    else if (user.role === 'plus') rememberPlus(bandyerId)
    try {
      await deps.userMap.insert(
        { receivedUserId: user.userId, bandyerId, role: user.role, fullName: user.fullName, groups: user.groups },
        ctx
      )
      return bandyerId
    } catch (err) {
      if (!(err instanceof StoreDuplicateError)) throw err
      // Another replica mapped the same user first: its row wins (same id unless a legacy row).
      const winner = await deps.userMap.find(user.userId, ctx)
      const winnerId = winner?.bandyerId ?? bandyerId
      if (user.role === 'plus' && winnerId !== bandyerId) await ensurePlus(winnerId)
      return winnerId
    }
  }

  return {
    /** Resolves the Kaleyra id of a user; concurrent calls for the same new user share one creation. */
    async ensure (user: KaleyraUserRequest, ctx: StoreContext): Promise<string> {
      // Per role: a request needing a plus user must not settle for a basic creation in flight.
      const key = `${user.role}:${user.userId}`
      const pending = inFlight.get(key)
      if (pending !== undefined) return await pending
      const promise = create(user, ctx).finally(() => inFlight.delete(key))
      inFlight.set(key, promise)
      return await promise
    }
  }
}
