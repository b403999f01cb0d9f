import { pino, type LoggerOptions } from 'pino'

/**
 * Keys never written to logs: credentials (Kaleyra API key, cookies, authorization) and personal
 * data (names, descriptions). Logging code should not pass them at all; this is the net.
 */
export const REDACTED_KEYS: ReadonlySet<string> = new Set([
  'apikey', 'authorization', 'cookie', 'fullName', 'description', 'password', 'email'
])
export const CENSOR = '[REDACTED]'

/**
 * Such a key is censored at the top of a log line, one level below it (`{ user: { email } }`) and
 * in a `headers` object there (`{ req: { headers: { cookie } } }`). A line without one is passed
 * on as it is; one with one is copied, never changed in place, since its objects are the caller's
 * (a request's headers, say). Runs as pino's `formatters.log`, so before serializers; pino's
 * `redact` keeps only literal top-level paths (see loggerOptions). Its wildcard paths, which this
 * replaces, made every request line pay a selective clone of each of its objects.
 */
export function censorFields<T extends object> (fields: T): T {
  return censorAt(fields, 0)
}

function censorAt<T extends object> (value: T, depth: number): T {
  let copy: Record<string, unknown> | undefined
  for (const key of Object.keys(value)) {
    const child: unknown = (value as Record<string, unknown>)[key]
    let replaced = child
    if (REDACTED_KEYS.has(key)) {
      replaced = CENSOR
    } else if (typeof child === 'object' && child !== null && (depth === 0 || (depth === 1 && key === 'headers'))) {
      replaced = censorAt(child, depth + 1)
    }
    if (replaced !== child) {
      copy ??= copyOf(value)
      copy[key] = replaced
    }
  }
  return (copy ?? value) as T
}

/** A shallow copy that stays what it was: an array, an error (for pino's serializer), an instance of its class. */
function copyOf (value: object): Record<string, unknown> {
  if (Array.isArray(value)) return [...value] as unknown as Record<string, unknown>
  const prototype: unknown = Object.getPrototypeOf(value)
  if (prototype === Object.prototype || prototype === null) return { ...value } as Record<string, unknown>
  // Own accessors are read on the original: an error's `stack` is one on Node 24, whose getter
  // answers nothing for another object.
  const descriptors = Object.getOwnPropertyDescriptors(value)
  for (const [key, descriptor] of Object.entries(descriptors)) {
    if (descriptor.get !== undefined) {
      const read = (value as Record<string, unknown>)[key]
      descriptors[key] = { value: read, writable: true, configurable: true, enumerable: descriptor.enumerable }
    }
  }
  return Object.create(prototype as object, descriptors) as Record<string, unknown>
}

// Top-level keys of what censorFields cannot see: child loggers' bindings (Fastify's `reqId`, say)
// and what serializers return. Literal paths cost nothing on a line that lacks them.
const REDACTED_PATHS = [...REDACTED_KEYS, 'req.headers.authorization', 'req.headers.cookie']

/**
 * `pretty`: lines for a person at a terminal (pino-pretty, loaded in pino's worker only then);
 * otherwise JSON, one object per line. Censoring happens before either.
 */
export function loggerOptions (level: string, pretty = false): LoggerOptions {
  return {
    level,
    timestamp: pino.stdTimeFunctions.epochTime,
    redact: { paths: REDACTED_PATHS, censor: CENSOR },
    formatters: { log: censorFields },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {})
  }
}

/** Readable logs in the demo at a terminal; JSON when stdout is a file or a pipe, and always in production. */
export function prettyLogs (demo: boolean, stdout: { isTTY?: boolean } = process.stdout): boolean {
  return demo && stdout.isTTY === true
}
