import type { AppConfig } from '../config/index.js'
import type { KaleyraRole } from '../kaleyra/model.js'
import type { KaleyraUsers } from '../users/kaleyra-users.js'
import { roleForGroups } from '../users/roles.js'
import type { IdentityProvider, ParticipantIdentity, ParticipantInput, ResolvedParticipant } from '../identity/types.js'
import { allOrFirstError } from '../lib/concurrency.js'
import { BadParticipants } from '../lib/errors.js'
import type { StoredParticipant } from '../store/types.js'
import type { RequestContext } from '../upstream/request-context.js'
import type { OpenedRoom } from './rooms.js'

export interface PreparedParticipant extends ParticipantIdentity {
  role: KaleyraRole
}

export type ParticipantOps = ReturnType<typeof createParticipantOps>

export function createParticipantOps (deps: { config: AppConfig, identity: IdentityProvider, users: KaleyraUsers }) {
  const { privileges } = deps.config.service
  return {
    /** Who the participants are and which Kaleyra role each gets; nothing is created yet. */
    async prepare (inputs: ParticipantInput[], ctx: RequestContext): Promise<PreparedParticipant[]> {
      const identities = await deps.identity.identify(inputs, ctx)
      return identities.map(identity => {
        const role = roleForGroups(identity.groups, privileges)
        if (role === null) {
          throw new BadParticipants(`participant ${identity.userId} has no group listed in the service privileges (groups: ${identity.groups.join(', ') || 'none'})`)
        }
        return { ...identity, role }
      })
    },

    /** Maps every participant to a Kaleyra user, creating the missing ones concurrently. */
    async ensureUsers (prepared: PreparedParticipant[], ctx: RequestContext): Promise<ResolvedParticipant[]> {
      return await allOrFirstError(prepared, async p => ({
        ...p,
        bandyerId: await deps.users.ensure(
          { userId: p.userId, role: p.role, fullName: p.fullName, groups: p.groups },
          ctx
        )
      }))
    }
  }
}

export function toStored (participants: ResolvedParticipant[], room: OpenedRoom | null): StoredParticipant[] {
  return participants.map(p => {
    const stored: StoredParticipant = {
      userId: p.userId,
      userBandyerId: p.bandyerId,
      accessLinkURL: room?.links.get(p.bandyerId) ?? null
    }
    if (p.groups.length > 0) stored.groups = p.groups
    if (p.fullName !== undefined) stored.fullName = p.fullName
    if (p.language !== undefined) stored.language = p.language
    return stored
  })
}

export function storedToInput (p: StoredParticipant): ParticipantInput {
  return { userId: p.userId, groups: p.groups, fullName: p.fullName, language: p.language }
}

/** What the Kaleyra room depends on: who is in it and with which groups (hence role and tools). */
export function roomSetupKey (participants: ParticipantInput[]): string {
  return JSON.stringify(participants.map(p => [p.userId, [...(p.groups ?? [])].sort()]))
}

/** Everything stored about the participants, to tell whether a PATCH changes anything. */
export function participantsKey (participants: ParticipantInput[]): string {
  return JSON.stringify(
    participants.map(p => [p.userId, [...(p.groups ?? [])].sort(), p.fullName ?? null, p.language ?? null])
  )
}
