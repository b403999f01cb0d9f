// Transcriptions: JSON given by a test, or a generated document of a requested size that is
// produced chunk by chunk while it is sent, so a 1 GB transcription costs no memory.
import { Readable } from 'node:stream'
import type { SessionRecord, TranscriptionSource } from './state.js'

const CHUNK_BYTES = 64 * 1024
const TEXT = 'The patient reports feeling better since the last visit; no side effects were noticed.'

function segment (index: number): string {
  const id = String(index).padStart(12, '0')
  return `{"index":"${id}","speaker":"speaker_${index % 2}","start":"${id}","text":"${TEXT}"}`
}

const SEGMENT_BYTES = Buffer.byteLength(segment(0))

export interface GeneratedTranscription { length: number, stream: Readable }

/**
 * A valid JSON document `{"session_id","room_id","language","segments":[...],"padding":"xx"}`
 * of exactly `bytes` bytes (or the smallest possible document when `bytes` is smaller).
 */
export function generateTranscription (sessionId: string, roomId: string, bytes: number): GeneratedTranscription {
  const head = `{"session_id":${JSON.stringify(sessionId)},"room_id":${JSON.stringify(roomId)},"language":"en","segments":[`
  const tailStart = '],"padding":"'
  const tailEnd = '"}'
  const fixed = Buffer.byteLength(head) + tailStart.length + tailEnd.length
  const room = Math.max(0, bytes - fixed)
  // n segments take n * SEGMENT_BYTES + (n - 1) commas.
  const segments = Math.floor((room + 1) / (SEGMENT_BYTES + 1))
  const segmentBytes = segments === 0 ? 0 : segments * (SEGMENT_BYTES + 1) - 1
  const padding = room - segmentBytes
  const length = fixed + segmentBytes + padding

  async function * chunks (): AsyncGenerator<Buffer> {
    yield Buffer.from(head)
    const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / (SEGMENT_BYTES + 1)))
    for (let i = 0; i < segments; i += perChunk) {
      const parts: string[] = []
      for (let j = i; j < Math.min(segments, i + perChunk); j++) parts.push(j === 0 ? segment(j) : ',' + segment(j))
      yield Buffer.from(parts.join(''))
    }
    yield Buffer.from(tailStart)
    for (let left = padding; left > 0; left -= CHUNK_BYTES) yield Buffer.alloc(Math.min(left, CHUNK_BYTES), 'x')
    yield Buffer.from(tailEnd)
  }

  return { length, stream: Readable.from(chunks(), { objectMode: false }) }
}

function isSizeRequest (value: unknown): value is { bytes: number } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const keys = Object.keys(value)
  return keys.length === 1 && keys[0] === 'bytes' && typeof (value as { bytes: unknown }).bytes === 'number'
}

/** `{ bytes: n }` (and only that) asks for a generated document; anything else is the transcription itself. */
export function transcriptionSource (value: unknown): TranscriptionSource {
  if (isSizeRequest(value)) return generatedSource(value.bytes)
  const text = JSON.stringify(value)
  if (text === undefined) throw new TypeError('a transcription must be JSON-serialisable')
  return { kind: 'json', body: Buffer.from(text) }
}

export function generatedSource (bytes: number): TranscriptionSource {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new TypeError('transcription bytes must be a non-negative integer')
  return { kind: 'generated', bytes }
}

/** The bytes of a ready transcription, with their length. */
export function transcriptionPayload (session: SessionRecord, source: TranscriptionSource): GeneratedTranscription {
  if (source.kind === 'json') return { length: source.body.length, stream: Readable.from([source.body]) }
  return generateTranscription(session.sessionId, session.roomId, source.bytes)
}
