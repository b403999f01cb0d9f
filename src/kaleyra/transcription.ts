// Reading a transcription answer: the document itself, or (like every documented v2 file
// download) a small JSON object carrying a temporary link to it, which is then followed.
import type { IncomingHttpHeaders } from 'node:http'
import { Readable } from 'node:stream'
import { UpstreamError } from '../upstream/errors.js'
import type { HttpUpstream, UpstreamRequest, UpstreamResponse } from '../upstream/http.js'
import { transcriptionLinkOf } from './wire.js'

/** A transcription being downloaded: the caller must consume or destroy `body`. */
export interface TranscriptionDownload {
  /** From content-length; null when the size is not announced. */
  length: number | null
  body: Readable
}

/** Answers up to this size are read whole to tell a link from a document; larger ones are documents. */
export const LINK_ANSWER_MAX_BYTES = 16 * 1024

export function contentLength (headers: IncomingHttpHeaders): number | null {
  const value = Number(headers['content-length'])
  return Number.isSafeInteger(value) && value >= 0 ? value : null
}

function bodyError (err: unknown, operation: string): UpstreamError {
  if (err instanceof UpstreamError) return err
  const timeout = (err as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT'
  return new UpstreamError({ target: 'kaleyra', operation, failure: timeout ? 'timeout' : 'network', code: timeout ? 'deadline exceeded' : 'body interrupted' })
}

/**
 * Reads up to `limit` bytes. `rest` is null when the body ended within them; otherwise it is a
 * stream of the whole body (what was read, then the remainder), and destroying it ends the download.
 */
async function readHead (
  body: Readable,
  limit: number,
  operation: string
): Promise<{ head: Buffer; rest: Readable | null }> {
  const chunks: Buffer[] = []
  let size = 0
  const iterator = body[Symbol.asyncIterator]()
  try {
    while (size <= limit) {
      const next = await iterator.next()
      if (next.done === true) return { head: Buffer.concat(chunks, size), rest: null }
      chunks.push(next.value as Buffer)
      size += (next.value as Buffer).length
    }
  } catch (err) {
    body.destroy()
    throw bodyError(err, operation)
  }
  const rest = Readable.from(
    (async function * () {
      try {
        yield * chunks
        for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
          yield next.value as Buffer
        }
      } finally {
        await iterator.return?.()
      }
    })(),
    { objectMode: false }
  )
  return { head: Buffer.alloc(0), rest }
}

function json (bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'))
  } catch {
    return undefined
  }
}

/**
 * Turns a 200 transcription answer into the document's download. A link is fetched through the
 * same HTTP client (deadline, retries, metrics); its host gets no apikey unless it is Kaleyra's.
 */
export async function transcriptionDownload (
  http: HttpUpstream,
  res: UpstreamResponse,
  refuse: (req: UpstreamRequest, res: UpstreamResponse) => Promise<never>
): Promise<TranscriptionDownload> {
  const length = contentLength(res.headers)
  if (length !== null && length > LINK_ANSWER_MAX_BYTES) return { length, body: res.body }
  const { head, rest } = await readHead(res.body, LINK_ANSWER_MAX_BYTES, 'getTranscription')
  if (rest !== null) return { length: null, body: rest }
  const link = transcriptionLinkOf(json(head))
  if (link === null) return { length: head.length, body: Readable.from([head]) }

  const req: UpstreamRequest = { operation: 'getTranscriptionFile', method: 'GET', path: '', url: link, headers: { accept: '*/*' } }
  const file = await http.request(req)
  if (file.statusCode !== 200) return await refuse(req, file)
  return { length: contentLength(file.headers), body: file.body }
}
