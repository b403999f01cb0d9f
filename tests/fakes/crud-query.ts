// MongoDB-style filters and update operators as the CRUD Service accepts them, over plain objects.
import { isDeepStrictEqual } from 'node:util'

export type Doc = Record<string, unknown>

/** Answered as the CRUD's 400 `{ statusCode, error, message }`. */
export class CrudBadRequest extends Error {}

const QUERY_OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$all', '$exists', '$regex', '$options', '$elemMatch', '$size'])
export const UPDATE_OPERATORS = new Set(['$set', '$unset', '$inc', '$mul', '$currentDate', '$push', '$pull', '$addToSet'])

function isPlainObject (value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isOperatorObject (value: unknown): value is Doc {
  return isPlainObject(value) && Object.keys(value).length > 0 && Object.keys(value).every(k => k.startsWith('$'))
}

/** Every value a dotted path reaches; arrays are traversed like MongoDB does (numeric parts index them). */
export function valuesAt (value: unknown, path: string[]): unknown[] {
  if (path.length === 0) return value === undefined ? [] : [value]
  const [head, ...rest] = path
  if (Array.isArray(value)) {
    if (/^\d+$/.test(head)) return valuesAt(value[Number(head)], rest)
    return value.flatMap(item => isPlainObject(item) ? valuesAt(item[head], rest) : [])
  }
  if (isPlainObject(value)) return valuesAt(value[head], rest)
  return []
}

/** A value and, for an array, its elements: what equality and comparisons look at. */
function expand (values: unknown[]): unknown[] {
  return values.flatMap(v => Array.isArray(v) ? [v, ...v] : [v])
}

function compare (a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0
  return undefined
}

function operatorMatches (values: unknown[], op: string, arg: unknown, all: Doc): boolean {
  const flat = expand(values)
  const ordered = (accept: (c: number) => boolean): boolean => flat.some(v => {
    const c = compare(v, arg)
    return c !== undefined && accept(c)
  })
  switch (op) {
    case '$eq': return flat.some(v => isDeepStrictEqual(v, arg))
    case '$ne': return !flat.some(v => isDeepStrictEqual(v, arg))
    case '$gt': return ordered(c => c > 0)
    case '$gte': return ordered(c => c >= 0)
    case '$lt': return ordered(c => c < 0)
    case '$lte': return ordered(c => c <= 0)
    case '$in':
      if (!Array.isArray(arg)) throw new CrudBadRequest('$in needs an array')
      return flat.some(v => arg.some(a => isDeepStrictEqual(v, a)))
    case '$nin':
      if (!Array.isArray(arg)) throw new CrudBadRequest('$nin needs an array')
      return !flat.some(v => arg.some(a => isDeepStrictEqual(v, a)))
    case '$all':
      if (!Array.isArray(arg)) throw new CrudBadRequest('$all needs an array')
      return values.some(v => Array.isArray(v) && arg.every(a => v.some(e => isDeepStrictEqual(e, a))))
    case '$exists': return (values.length > 0) === Boolean(arg)
    case '$size': return values.some(v => Array.isArray(v) && v.length === arg)
    case '$regex': {
      const options = typeof all.$options === 'string' ? all.$options : ''
      const re = new RegExp(String(arg), options)
      return flat.some(v => typeof v === 'string' && re.test(v))
    }
    case '$options': return true
    case '$elemMatch':
      return values.some(
        v =>
          Array.isArray(v) &&
          v.some(e => (isOperatorObject(arg) ? conditionMatches([e], arg) : isPlainObject(e) && matches(e, arg as Doc)))
      )
    default:
      throw new CrudBadRequest(`Unsupported operator: ${op}`)
  }
}

function conditionMatches (values: unknown[], condition: unknown): boolean {
  if (!isOperatorObject(condition)) {
    return expand(values).some(v => isDeepStrictEqual(v, condition)) || (condition === null && values.length === 0)
  }
  return Object.entries(condition).every(([op, arg]) => {
    if (!QUERY_OPERATORS.has(op)) throw new CrudBadRequest(`Unsupported operator: ${op}`)
    return operatorMatches(values, op, arg, condition)
  })
}

/** Whether a document matches a filter (`$and`/`$or` and field conditions; other top-level `$` keys are refused). */
export function matches (doc: Doc, filter: Doc): boolean {
  return Object.entries(filter).every(([key, condition]) => {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(condition) || condition.length === 0) throw new CrudBadRequest(`${key} needs a non-empty array`)
      const results = condition.map(sub => {
        if (!isPlainObject(sub)) throw new CrudBadRequest(`${key} needs objects`)
        return matches(doc, sub)
      })
      return key === '$and' ? results.every(Boolean) : results.some(Boolean)
    }
    if (key.startsWith('$')) throw new CrudBadRequest(`Unknown operator: ${key}`)
    return conditionMatches(valuesAt(doc, key.split('.')), condition)
  })
}

/** The top-level fields a filter names (for the collection-schema check). */
export function filterFields (filter: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(filter)) for (const item of filter) filterFields(item, into)
  else if (isPlainObject(filter)) {
    for (const [key, value] of Object.entries(filter)) {
      if (key === '$and' || key === '$or') filterFields(value, into)
      else if (!key.startsWith('$')) into.add(key.split('.')[0])
    }
  }
  return into
}

function setPath (doc: Doc, path: string, value: unknown): void {
  const parts = path.split('.')
  let target: Record<string, unknown> = doc
  for (const part of parts.slice(0, -1)) {
    const next = target[part]
    if (typeof next !== 'object' || next === null) target[part] = {}
    target = target[part] as Record<string, unknown>
  }
  target[parts[parts.length - 1]] = value
}

function unsetPath (doc: Doc, path: string): void {
  const parts = path.split('.')
  const parent = valuesAt(doc, parts.slice(0, -1))[0] ?? (parts.length === 1 ? doc : undefined)
  if (isPlainObject(parent)) delete parent[parts[parts.length - 1]]
}

function current (doc: Doc, path: string): unknown {
  return valuesAt(doc, path.split('.'))[0]
}

function eachOf (value: unknown): unknown[] {
  return isPlainObject(value) && Array.isArray(value.$each) ? value.$each : [value]
}

function arrayAt (doc: Doc, path: string): unknown[] {
  const value = current(doc, path)
  if (value === undefined) return []
  if (!Array.isArray(value)) throw new CrudBadRequest(`${path} is not an array`)
  return value
}

/** Applies a PATCH body's operators to a copy of the document. */
export function applyUpdate (doc: Doc, update: Doc, now: string): Doc {
  const next = structuredClone(doc)
  for (const [op, fields] of Object.entries(update)) {
    if (!isPlainObject(fields)) throw new CrudBadRequest(`${op} needs an object`)
    for (const [path, value] of Object.entries(fields)) {
      switch (op) {
        case '$set': setPath(next, path, structuredClone(value)); break
        case '$unset': unsetPath(next, path); break
        case '$currentDate': setPath(next, path, now); break
        case '$inc':
        case '$mul': {
          const before = current(next, path) ?? 0
          if (typeof value !== 'number' || typeof before !== 'number') throw new CrudBadRequest(`${op} needs numbers`)
          setPath(next, path, op === '$inc' ? before + value : before * value)
          break
        }
        case '$push': setPath(next, path, [...arrayAt(next, path), ...eachOf(structuredClone(value))]); break
        case '$addToSet': {
          const list = [...arrayAt(next, path)]
          for (const item of eachOf(structuredClone(value))) {
            if (!list.some(e => isDeepStrictEqual(e, item))) list.push(item)
          }
          setPath(next, path, list)
          break
        }
        case '$pull':
          setPath(next, path, arrayAt(next, path).filter(e => isPlainObject(value) && !isOperatorObject(value)
            ? !(isPlainObject(e) && matches(e, value))
            : !conditionMatches([e], value)))
          break
        default: throw new CrudBadRequest(`Unsupported update operator: ${op}`)
      }
    }
  }
  return next
}

/** `_s`: comma list (or repeated), `-` for descending. */
export function sortDocs (docs: Doc[], sort: string[]): Doc[] {
  const keys = sort.flatMap(s => s.split(',')).filter(s => s !== '').map(s => s.startsWith('-') ? { path: s.slice(1), dir: -1 } : { path: s, dir: 1 })
  return [...docs].sort((a, b) => {
    for (const { path, dir } of keys) {
      const c = compare(current(a, path), current(b, path)) ?? 0
      if (c !== 0) return c * dir
    }
    return 0
  })
}

/** `_p`: the listed top-level fields, `_id` always. */
export function project (doc: Doc, fields: string[] | undefined): Doc {
  if (fields === undefined) return doc
  const out: Doc = { _id: doc._id }
  for (const field of fields) if (field in doc) out[field] = doc[field]
  return out
}
