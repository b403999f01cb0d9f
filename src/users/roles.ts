import type { Privilege } from '../config/service-config.js'
import type { KaleyraRole } from '../kaleyra/model.js'

/** plus when any group is a plus group, else basic when any is a basic group, else null (unknown groups). */
export function roleForGroups (groups: string[], privileges: Record<KaleyraRole, Privilege>): KaleyraRole | null {
  if (groups.some(g => privileges.plus.groups.includes(g))) return 'plus'
  if (groups.some(g => privileges.basic.groups.includes(g))) return 'basic'
  return null
}
