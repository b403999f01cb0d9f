import { BadParticipants } from '../lib/errors.js'
import type { IdentityProvider, ParticipantIdentity } from './types.js'

/** Header mode (no AUTH_SERVICE): participants carry their groups and full name in the request. */
export function createHeaderIdentityProvider (): IdentityProvider {
  return {
    mode: 'header',
    acceptsIdList: false,
    async identify (participants) {
      return participants.map((p, index): ParticipantIdentity => {
        if (p.groups === undefined || p.groups.length === 0) {
          throw new BadParticipants(`participant ${index} (${p.userId}) needs groups when no identity provider is configured`)
        }
        if (p.fullName === undefined || p.fullName.trim() === '') {
          throw new BadParticipants(`participant ${index} (${p.userId}) needs fullName when no identity provider is configured`)
        }
        return { userId: p.userId, groups: p.groups, fullName: p.fullName, language: p.language }
      })
    },
    async callerGroups (ctx) {
      return ctx.callerGroups
    },
    async close () {}
  }
}
