import { readFileSync } from 'node:fs'
import { Type, TypeCompiler, type Static } from '../lib/typebox.js'
import { TOOL_NAMES, type KaleyraRole, type Tools } from '../kaleyra/model.js'
import { ConfigError } from './errors.js'

const ToolsConfigSchema = Type.Partial(
  Type.Object(
    Object.fromEntries(TOOL_NAMES.map(name => [name, Type.Boolean()])) as Record<
      (typeof TOOL_NAMES)[number],
      ReturnType<typeof Type.Boolean>
    >
  )
)

const PrivilegeSchema = Type.Object({
  groups: Type.Array(Type.String({ minLength: 1 })),
  tools: Type.Optional(ToolsConfigSchema)
})

const ColorsSchema = Type.Object({ primaryColor: Type.String(), accentColor: Type.String() })

export const UserIdPathStepSchema = Type.Object({
  from: Type.Union([Type.Literal('object'), Type.Literal('json'), Type.Literal('array')]),
  extract: Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 0 })])
})
export type UserIdPathStep = Static<typeof UserIdPathStepSchema>

export const ServiceConfigFileSchema = Type.Object({
  privileges: Type.Object({ basic: PrivilegeSchema, plus: PrivilegeSchema }),
  theme: Type.Optional(Type.Object({ light: Type.Optional(ColorsSchema), dark: Type.Optional(ColorsSchema) })),
  companyLogo: Type.Optional(Type.Object({ url: Type.String() })),
  groupsWithBackgroundList: Type.Optional(Type.Array(Type.String())),
  userIdPathInRequest: Type.Optional(Type.Array(UserIdPathStepSchema, { minItems: 1 })),
  customUserId: Type.Optional(
    Type.Object({ source: Type.String({ minLength: 1 }), target: Type.String({ minLength: 1 }) })
  ),
  // 1.x keys, accepted and ignored: the Kaleyra environment now comes from BANDYER_BASE_URL.
  environment: Type.Optional(Type.String()),
  mode: Type.Optional(Type.String())
})
export type ServiceConfigFile = Static<typeof ServiceConfigFileSchema>

export interface Privilege { groups: string[], tools: Tools }

/** The configuration after defaults are applied: what the rest of the service reads. */
export interface ServiceConfig {
  privileges: Record<KaleyraRole, Privilege>
  theme: { light: { primaryColor: string, accentColor: string }, dark: { primaryColor: string, accentColor: string } }
  companyLogo: { url: string }
  groupsWithBackgroundList: string[]
  userIdPathInRequest: UserIdPathStep[]
  customUserId: { source: string, target: string }
}

const ALL_TOOLS = Object.fromEntries(TOOL_NAMES.map(name => [name, true])) as Tools

/** The 2.x default configuration. */
export const DEFAULT_CONFIG_FILE: ServiceConfigFile = {
  privileges: {
    basic: { groups: ['patient'], tools: { ...ALL_TOOLS } },
    plus: { groups: ['doctor'], tools: { ...ALL_TOOLS } }
  },
  theme: {
    light: { primaryColor: '#ffffff', accentColor: '#480ca8' },
    dark: { primaryColor: '#003049', accentColor: '#d62828' }
  },
  companyLogo: { url: 'https://www.insert.url.it' },
  customUserId: { source: '_id', target: 'authUserId' }
}

const checker = TypeCompiler.Compile(ServiceConfigFileSchema)

function keyOf (path: string): string {
  return path.replace(/^\//, '').replace(/\//g, '.') || '(root)'
}

/** Validates a parsed config file and applies the defaults; throws ConfigError naming the bad key. */
export function resolveServiceConfig (raw: unknown, userIdHeaderKey: string): ServiceConfig {
  const first = checker.Errors(raw).First()
  if (first !== undefined) throw new ConfigError(`service configuration: ${keyOf(first.path)} ${first.message.toLowerCase()}`)
  const file = raw as ServiceConfigFile
  const steps = file.userIdPathInRequest ?? [{ from: 'object', extract: 'headers' }, { from: 'object', extract: userIdHeaderKey.toLowerCase() }]
  if (steps[0].from !== 'object') throw new ConfigError('service configuration: userIdPathInRequest.0.from must be "object"')
  const defaults = DEFAULT_CONFIG_FILE
  return {
    privileges: {
      basic: { groups: file.privileges.basic.groups, tools: { ...ALL_TOOLS, ...file.privileges.basic.tools } },
      plus: { groups: file.privileges.plus.groups, tools: { ...ALL_TOOLS, ...file.privileges.plus.tools } }
    },
    theme: {
      light: file.theme?.light ?? defaults.theme!.light!,
      dark: file.theme?.dark ?? defaults.theme!.dark!
    },
    companyLogo: file.companyLogo ?? defaults.companyLogo!,
    groupsWithBackgroundList: file.groupsWithBackgroundList ?? [],
    userIdPathInRequest: steps,
    customUserId: file.customUserId ?? defaults.customUserId!
  }
}

const KNOWN_ROOT_KEYS = new Set(Object.keys(ServiceConfigFileSchema.properties))
const KNOWN_TOOLS = new Set<string>(TOOL_NAMES)

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Keys the service does not know (a typo in a root key, a misspelt tool), as dotted paths. */
export function unknownConfigKeys (raw: unknown): string[] {
  if (!isRecord(raw)) return []
  const unknown = Object.keys(raw).filter(key => !KNOWN_ROOT_KEYS.has(key))
  const privileges = isRecord(raw.privileges) ? raw.privileges : {}
  for (const level of ['basic', 'plus']) {
    const privilege = privileges[level]
    const tools = isRecord(privilege) && isRecord(privilege.tools) ? privilege.tools : {}
    unknown.push(...Object.keys(tools).filter(tool => !KNOWN_TOOLS.has(tool)).map(tool => `privileges.${level}.tools.${tool}`))
  }
  return unknown
}

/** Line and column (1-based) of a JSON.parse failure; Node 20 reports only the position. */
function syntaxErrorAt (err: unknown, text: string): string {
  const position = /position (\d+)/.exec((err as Error).message)
  const offset = position === null ? text.length : Number(position[1])
  const before = text.slice(0, offset).split('\n')
  return `line ${before.length} column ${before[before.length - 1].length + 1}`
}

/**
 * Reads TELECONSULTATION_SERVICE_CONFIG_PATH, or the built-in default when no path is given.
 * Unknown keys do not stop the start: `onWarning` gets one message naming them all.
 */
export function loadServiceConfig (
  path: string | undefined,
  userIdHeaderKey: string,
  onWarning?: (message: string) => void
): ServiceConfig {
  if (path === undefined) return resolveServiceConfig(DEFAULT_CONFIG_FILE, userIdHeaderKey)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`TELECONSULTATION_SERVICE_CONFIG_PATH: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new ConfigError(`TELECONSULTATION_SERVICE_CONFIG_PATH: ${path} is not valid JSON at ${syntaxErrorAt(err, text)}`)
  }
  const config = resolveServiceConfig(raw, userIdHeaderKey)
  const unknown = unknownConfigKeys(raw)
  if (unknown.length > 0) onWarning?.(`service configuration ${path}: unknown keys ignored: ${unknown.join(', ')} (allowed root keys: ${[...KNOWN_ROOT_KEYS].join(', ')}; tools: ${TOOL_NAMES.join(', ')})`)
  return config
}
