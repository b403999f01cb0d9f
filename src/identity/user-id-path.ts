import type { UserIdPathStep } from '../config/service-config.js'

/**
 * Follows `userIdPathInRequest` through the request: `object` reads a property, `json` parses the
 * current value as JSON then reads a property, `array` reads an index. Anything missing → null.
 */
export function extractUserId (request: unknown, steps: UserIdPathStep[]): string | null {
  let current: unknown = request
  for (const step of steps) {
    if (step.from === 'json') {
      if (typeof current !== 'string') return null
      try { current = JSON.parse(current) } catch { return null }
    }
    if (current === null || typeof current !== 'object') return null
    if (step.from === 'array') {
      if (!Array.isArray(current)) return null
      current = current[Number(step.extract)]
    } else {
      current = (current as Record<string, unknown>)[String(step.extract)]
    }
  }
  if (typeof current === 'number' && Number.isFinite(current)) return String(current)
  if (typeof current !== 'string' || current.trim() === '') return null
  return current
}

/** Splits a comma-separated groups header; a missing header means no groups. */
export function parseGroups (value: string | string[] | undefined): string[] {
  const raw = Array.isArray(value) ? value.join(',') : value ?? ''
  const groups: string[] = []
  for (const part of raw.split(',')) {
    const group = part.trim()
    if (group !== '') groups.push(group)
  }
  return groups
}
