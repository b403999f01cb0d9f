// How we read the identity service's answers. Mia-Platform's auth0-client is not precisely
// documented, so the reading is tolerant; docs/configuration.md lists what is accepted.

/** What the service needs to know about a user. */
export interface IdentityUser {
  groups: string[]
  fullName?: string
}

type Json = Record<string, unknown>

function isObject (value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function nonEmpty (value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined
}

/** `["a","b"]`, `"a,b"` or `[{ name: "a" }]` (Keycloak-like group objects); undefined when absent. */
function groupList (value: unknown): string[] | undefined {
  if (typeof value === 'string') return value.split(',').map(g => g.trim()).filter(g => g !== '')
  if (!Array.isArray(value)) return undefined
  const groups: string[] = []
  for (const item of value) {
    const name = isObject(item) ? nonEmpty(item.name) : nonEmpty(item)
    if (name !== undefined) groups.push(name)
  }
  return groups
}

function fullNameOf (user: Json): string | undefined {
  const direct = nonEmpty(user.name) ?? nonEmpty(user.fullName) ?? nonEmpty(user.full_name)
  if (direct !== undefined) return direct
  const parts = [
    nonEmpty(user.given_name) ?? nonEmpty(user.firstName),
    nonEmpty(user.family_name) ?? nonEmpty(user.lastName)
  ]
  const joined = parts.filter(p => p !== undefined).join(' ')
  return joined !== '' ? joined : nonEmpty(user.nickname)
}

const ID_FIELDS = ['user_id', 'userId', 'id', 'sub', '_id']

/** A user as the identity service answers it (fields accepted: docs/configuration.md); null when it is not one. */
export function parseIdentityUser (body: unknown): IdentityUser | null {
  if (!isObject(body)) return null
  const user = isObject(body.user) ? body.user : body
  const appMetadata = isObject(user.app_metadata) ? user.app_metadata : {}
  const userMetadata = isObject(user.user_metadata) ? user.user_metadata : {}
  const groups = groupList(user.groups) ?? groupList(appMetadata.groups) ?? groupList(userMetadata.groups)
  const fullName = fullNameOf(user)
  // Something else than a user (an error body answered with 200, say) is not read as one without groups.
  const hasId = ID_FIELDS.some(field => nonEmpty(user[field]) !== undefined)
  if (!hasId && groups === undefined && fullName === undefined) return null
  return fullName === undefined ? { groups: groups ?? [] } : { groups: groups ?? [], fullName }
}

function readPath (value: unknown, path: string): unknown {
  let current = value
  for (const key of path.split('.')) {
    if (!isObject(current)) return undefined
    current = current[key]
  }
  return current
}

/**
 * The distinct `<target>` values (a dotted path is followed) of a custom-id lookup answer: a list
 * of records as the CRUD Service gives it, a single record, or null when the answer is neither.
 */
export function readCustomIdTargets (body: unknown, target: string): string[] | null {
  let records: unknown[]
  if (Array.isArray(body)) records = body
  else if (isObject(body)) records = [body]
  else return null
  const ids = new Set<string>()
  for (const record of records) {
    const value = readPath(record, target)
    if (typeof value === 'string' && value !== '') ids.add(value)
    else if (typeof value === 'number' && Number.isFinite(value)) ids.add(String(value))
  }
  return [...ids]
}
