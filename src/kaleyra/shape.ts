// What an answer we could not read looked like, in key paths (`room.participants[].url`) and
// never values: safe to log, and enough to tell what to change in wire.ts.
import type { TSchema } from '../lib/typebox.js'

/** The shape of one call's answer: the schema we accept, the fields the service needs, an optional wrapper key. */
export interface AnswerShape { schema: TSchema, expected: string[], wrapper?: string }

export interface AnswerDiagnosis {
  call: string
  /** Why the answer was not usable, in a few fixed words. */
  problem: string
  /** Key paths present (leaves), e.g. `room.participants[].url`; `[]` stands for the items of an array. */
  keys: string[]
  /** Fields the service needs that the answer lacks. */
  missing: string[]
  /** Keys the accepted shapes do not know (the topmost unknown key of each branch). */
  unexpected: string[]
}

const MAX_PATHS = 60
const MAX_ITEMS = 20
const MAX_DEPTH = 8
const MAX_KEY_LENGTH = 64

// Keys are shown, so keep them printable and short.
const printable = (key: string): string => key.replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_KEY_LENGTH)
const join = (path: string, key: string): string => path === '' ? key : `${path}.${key}`

interface Paths { leaves: Set<string>, all: Set<string> }

/** Every key path of a JSON value: `all` includes containers, `leaves` only the ends. */
export function keyPaths (value: unknown): Paths {
  const paths: Paths = { leaves: new Set(), all: new Set() }
  const visit = (node: unknown, path: string, depth: number): void => {
    if (paths.all.size >= MAX_PATHS * 4) return
    if (path !== '') paths.all.add(path)
    const isArray = Array.isArray(node)
    const entries: Array<[string, unknown]> = isArray
      ? (node as unknown[]).slice(0, MAX_ITEMS).map(item => [`${path}[]`, item])
      : typeof node === 'object' && node !== null ? Object.entries(node).map(([key, child]) => [join(path, printable(key)), child]) : []
    if (entries.length === 0 || depth >= MAX_DEPTH) {
      if (path !== '') paths.leaves.add(path)
      return
    }
    for (const [childPath, child] of entries) visit(child, childPath, depth + 1)
  }
  visit(value, '', 0)
  return paths
}

interface Known { containers: Set<string>, leaves: Set<string> }

/** The key paths a TypeBox schema describes (unions: every alternative). */
export function schemaPaths (schema: TSchema): Known {
  const known: Known = { containers: new Set(), leaves: new Set() }
  const walk = (node: TSchema, path: string): void => {
    if (Array.isArray(node.anyOf)) {
      for (const alternative of node.anyOf as TSchema[]) walk(alternative, path)
    } else if (node.type === 'object' && typeof node.properties === 'object') {
      if (path !== '') known.containers.add(path)
      for (const [key, child] of Object.entries(node.properties as Record<string, TSchema>)) {
        walk(child, join(path, key))
      }
    } else if (node.type === 'array' && node.items !== undefined) {
      if (path !== '') known.containers.add(path)
      walk(node.items as TSchema, `${path}[]`)
    } else if (path !== '') {
      known.leaves.add(path)
    }
  }
  walk(schema, '')
  return known
}

/** `a.b[].c` → `a`, `a.b`, `a.b[]`, `a.b[].c`. */
function ancestry (path: string): string[] {
  const steps: string[] = []
  const pattern = /\[\]|\.?[^.[]+/g
  let current = ''
  for (const match of path.matchAll(pattern)) {
    current += match[0]
    steps.push(current)
  }
  return steps
}

function parentOf (path: string): string {
  const steps = ancestry(path)
  return steps.length > 1 ? steps[steps.length - 2] : ''
}

export function diagnose (call: string, shape: AnswerShape, body: unknown, problem: string): AnswerDiagnosis {
  const present = keyPaths(body)
  const known = schemaPaths(shape.schema)
  const unexpected = new Set<string>()
  for (const leaf of present.leaves) {
    for (const step of ancestry(leaf)) {
      if (known.leaves.has(step)) break
      if (!known.containers.has(step)) {
        unexpected.add(step)
        break
      }
    }
  }
  const wrapped = shape.wrapper !== undefined && present.all.has(shape.wrapper) && !present.leaves.has(shape.wrapper)
  const prefix = wrapped ? `${shape.wrapper as string}.` : ''
  const isObject = typeof body === 'object' && body !== null && !Array.isArray(body)
  const missing = shape.expected
    .map(path => prefix + path)
    .filter(path => {
      if (present.all.has(path)) return false
      const parent = parentOf(path)
      return parent === '' ? isObject : present.all.has(parent) && !present.leaves.has(parent)
    })
  return {
    call,
    problem,
    keys: [...present.leaves].slice(0, MAX_PATHS),
    missing,
    unexpected: [...unexpected].slice(0, MAX_PATHS)
  }
}
