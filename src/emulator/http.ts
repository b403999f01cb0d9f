// Shared HTTP helpers of the emulated API: Kaleyra-style errors, body checks and pagination.

/** An answer `{ error, message }` with a status; thrown by handlers, rendered by the error handler. */
export class ApiError extends Error {
  readonly statusCode: number
  readonly errorName: string
  constructor (statusCode: number, errorName: string, message: string) {
    super(message)
    this.name = 'ApiError'
    this.statusCode = statusCode
    this.errorName = errorName
  }
}

export const validationError = (message: string): ApiError => new ApiError(422, 'validation_error', message)
export const notFound = (message = 'resource not found'): ApiError => new ApiError(404, 'not_found', message)

export type JsonObject = Record<string, unknown>

export function isObject (value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The body must be a JSON object with no field outside `allowed`. */
export function objectBody (body: unknown, allowed: readonly string[], where = 'body'): JsonObject {
  if (!isObject(body)) throw validationError(`${where} must be a JSON object`)
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw validationError(`${where}.${key} is not a known field`)
  }
  return body
}

export function optionalBoolean (body: JsonObject, key: string, where = 'body'): boolean | undefined {
  const value = body[key]
  if (value === undefined) return undefined
  if (typeof value !== 'boolean') throw validationError(`${where}.${key} must be a boolean`)
  return value
}

export function optionalString (body: JsonObject, key: string, where = 'body'): string | undefined {
  const value = body[key]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw validationError(`${where}.${key} must be a string`)
  return value
}

export function oneOf<T extends string> (value: unknown, allowed: readonly T[], name: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw validationError(`${name} must be one of ${allowed.join(', ')}`)
  }
  return value as T
}

export type Query = Record<string, string>

/** Query parameters as plain strings (the last value wins when a name repeats). */
export function queryOf (url: string): Query {
  const query: Query = {}
  const at = url.indexOf('?')
  if (at === -1) return query
  for (const [key, value] of new URLSearchParams(url.slice(at + 1))) query[key] = value
  return query
}

export function pathOf (url: string): string {
  const at = url.indexOf('?')
  return at === -1 ? url : url.slice(0, at)
}

export const DEFAULT_PAGE_LIMIT = 10
export const MAX_PAGE_LIMIT = 100

export interface PageRequest { offset: number, limit: number }

function intParam (query: Query, name: string, fallback: number): number {
  const raw = query[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d{1,9}$/.test(raw)) throw validationError(`${name} must be a non-negative integer`)
  return Number(raw)
}

export function readPage (query: Query): PageRequest {
  const offset = intParam(query, 'offset', 0)
  const limit = intParam(query, 'limit', DEFAULT_PAGE_LIMIT)
  if (limit < 1 || limit > MAX_PAGE_LIMIT) throw validationError(`limit must be between 1 and ${MAX_PAGE_LIMIT}`)
  return { offset, limit }
}

/** `count` is the number of items in this page; `has_more` says whether items follow it. */
export function pageOf<T> (
  all: T[],
  page: PageRequest
): { items: T[]; offset: number; limit: number; count: number; has_more: boolean } {
  const items = all.slice(page.offset, page.offset + page.limit)
  return {
    items,
    offset: page.offset,
    limit: page.limit,
    count: items.length,
    has_more: page.offset + items.length < all.length
  }
}
