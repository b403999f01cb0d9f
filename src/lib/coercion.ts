/**
 * custom-plugin-lib validated bodies with Ajv `coerceTypes: true`, so clients of the original send
 * `"duration_in_seconds": "3600"` or `"expiresIn": "3600"`. This applies Ajv's own coercion rules,
 * but only towards numbers, integers and booleans: a number where a string is expected stays an
 * error (Ajv would accept `7` as `"7"`), and nothing becomes an array.
 */

interface SchemaNode {
  type?: string | string[]
  properties?: Record<string, SchemaNode>
  items?: SchemaNode | SchemaNode[]
  anyOf?: SchemaNode[]
  oneOf?: SchemaNode[]
  allOf?: SchemaNode[]
}

const TARGETS = new Set(['number', 'integer', 'boolean'])

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function hasType (type: string, value: unknown): boolean {
  switch (type) {
    case 'integer': return Number.isInteger(value)
    case 'null': return value === null
    case 'array': return Array.isArray(value)
    case 'object': return isObject(value)
    case 'number': return typeof value === 'number'
    case 'string': return typeof value === 'string'
    case 'boolean': return typeof value === 'boolean'
    default: return true
  }
}

// Ajv's rules (lib/compile/validate/dataType.ts): a numeric string, a boolean or null to a number;
// "true"/"false", 1/0 or null to a boolean. undefined: not coercible.
function coerceTo (type: string, value: unknown): unknown {
  const numeric = typeof value === 'boolean' || value === null || (typeof value === 'string' && value !== '' && !Number.isNaN(Number(value)))
  switch (type) {
    case 'number': return numeric ? Number(value) : undefined
    case 'integer': return numeric && Number.isInteger(Number(value)) ? Number(value) : undefined
    case 'boolean':
      if (value === 'false' || value === 0 || value === null) return false
      if (value === 'true' || value === 1) return true
      return undefined
    default: return undefined
  }
}

function typesOf (schema: SchemaNode): string[] {
  return schema.type === undefined ? [] : ([] as string[]).concat(schema.type)
}

function accepts (schema: SchemaNode, value: unknown): boolean {
  const types = typesOf(schema)
  return types.length === 0 || types.some(t => hasType(t, value) || coerceTo(t, value) !== undefined)
}

/**
 * The value with its scalars coerced where `schema` expects a number, an integer or a boolean (objects and arrays
 * changed in place).
 */
export function coerceScalars (schema: unknown, data: unknown): unknown {
  if (!isObject(schema)) return data
  const node = schema as SchemaNode
  let value = data
  const types = typesOf(node)
  if (types.length > 0 && !types.some(t => hasType(t, value))) {
    for (const type of types.filter(t => TARGETS.has(t))) {
      const coerced = coerceTo(type, value)
      if (coerced !== undefined) { value = coerced; break }
    }
  }
  if (isObject(value) && node.properties !== undefined) {
    for (const [key, property] of Object.entries(node.properties)) {
      if (Object.hasOwn(value, key)) value[key] = coerceScalars(property, value[key])
    }
  }
  if (Array.isArray(value) && node.items !== undefined) {
    const items = node.items
    for (let i = 0; i < value.length; i++) {
      const item = Array.isArray(items) ? items[i] : items
      if (item !== undefined) value[i] = coerceScalars(item, value[i])
    }
  }
  for (const part of node.allOf ?? []) value = coerceScalars(part, value)
  // Like Ajv, a union coerces for the first branch that can take the value.
  const branch = (node.anyOf ?? node.oneOf)?.find(b => accepts(b, value))
  if (branch !== undefined) value = coerceScalars(branch, value)
  return value
}
