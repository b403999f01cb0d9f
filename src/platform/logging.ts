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

/**
 * `pretty`: lines for a person at a terminal (pino-pretty, loaded in pino's worker only then);
 * otherwise JSON, one object per line. Redaction happens before either.
 */
export function loggerOptions (level: string, pretty = false): LoggerOptions {
  return {
    level,
    timestamp: pino.stdTimeFunctions.epochTime,
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {})
  }
}

/** Readable logs in the demo at a terminal; JSON when stdout is a file or a pipe, and always in production. */
export function prettyLogs (demo: boolean, stdout: { isTTY?: boolean } = process.stdout): boolean {
  return demo && stdout.isTTY === true
}
