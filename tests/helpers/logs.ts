import { Writable } from 'node:stream'
import { pino, type Logger } from 'pino'
import { loggerOptions } from '../../src/platform/logging.js'

export interface CapturedLogs {
  logger: Logger
  lines: string[]
  records: () => Array<Record<string, unknown>>
}

/** A pino logger configured like production whose output is kept in memory. */
export function captureLogs (level = 'debug'): CapturedLogs {
  const lines: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.length > 0) lines.push(line)
      callback()
    }
  })
  const logger = pino(loggerOptions(level), stream)
  return { logger, lines, records: () => lines.map(line => JSON.parse(line) as Record<string, unknown>) }
}
