import { ConfigError } from './errors.js'

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }

/**
 * Parses `50MB`, `512KB`, `1GB`, `1.5 MB` or plain bytes (`1048576`) into bytes (binary multiples); `name` is the
 * variable, for errors.
 */
export function parseByteSize (value: string, name = 'TRANSCRIPTION_MAX_FILE_SIZE'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?b)?\s*$/i.exec(value)
  if (match === null) throw new ConfigError(`${name} must be a size like 50MB, 512KB or a number of bytes (got "${value}")`)
  const bytes = Math.floor(Number(match[1]) * UNITS[(match[2] ?? '').toLowerCase()])
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new ConfigError(`${name} must be a positive size (got "${value}")`)
  return bytes
}
