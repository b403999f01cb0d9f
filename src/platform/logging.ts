import { pino, type LoggerOptions } from 'pino'

/**
 * Paths never written to logs: credentials (Kaleyra API key, cookies, authorization) and
 * personal data (names, descriptions). Logging code should not pass them at all; this is the net.
 */
export const REDACTED_PATHS = [
  'apikey', '*.apikey', 'headers.apikey', '*.headers.apikey',
  'authorization', '*.authorization', 'req.headers.authorization', 'req.headers.cookie',
  'cookie', '*.cookie', 'headers.cookie', '*.headers.cookie',
  'fullName', '*.fullName', 'description', '*.description',
  'password', '*.password', 'email', '*.email'
]

export function loggerOptions (level: string): LoggerOptions {
  return {
    level,
    timestamp: pino.stdTimeFunctions.epochTime,
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' }
  }
}
