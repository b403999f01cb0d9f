import type { KaleyraRole } from '../kaleyra/model.js'
import type { RequestContext } from '../upstream/request-context.js'

/** A participant as a client sends it (after the legacy key `userExternalId` is folded into userId). */
export interface ParticipantInput {
  userId: string
  groups?: string[]
  fullName?: string
  language?: string
}

/** A participant once the identity mode filled in who they are. */
export interface ParticipantIdentity {
  userId: string
  groups: string[]
  fullName?: string
  language?: string
}

/** A participant ready for a room: identity, Kaleyra role and Kaleyra user. */
export interface ResolvedParticipant extends ParticipantIdentity {
  role: KaleyraRole
  bandyerId: string
}

/**
 * Who a participant is. Header mode trusts what the request carries; identity-provider mode asks
 * the identity service. Other providers can be added behind this interface.
 */
export interface IdentityProvider {
  readonly mode: 'header' | 'provider'
  /** Whether participants may be given as a bare array of ids. */
  readonly acceptsIdList: boolean
  /** Fills groups and full name; throws BadParticipants naming the participant when something is missing. */
  identify: (participants: ParticipantInput[], ctx: RequestContext) => Promise<ParticipantIdentity[]>
  /** Groups of the caller (role for the SDK credentials, admin check for the settings). */
  callerGroups: (ctx: RequestContext) => Promise<string[]>
  close: () => Promise<void>
}
