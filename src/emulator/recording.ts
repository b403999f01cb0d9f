// Recordings: one small file per session, handed out as temporary links (Kaleyra's documented
// flow: "For each session, get the recording download link. The link is temporary").
import type { SessionRecord } from './state.js'

export const RECORDING_CONTENT_TYPE = 'video/mp4'

/**
 * What `GET /v2/sessions/{id}/recording` links to when no expiry is asked for (Kaleyra's default is not documented).
 */
export const DEFAULT_RECORDING_LINK_SECONDS = 3600

/** A stand-in MP4: an `ftyp` box, then a `free` box naming the session (not a playable video). */
export function recordingFile (session: SessionRecord): Buffer {
  const ftyp = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypisom'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2')])
  const text = Buffer.from(`emulated recording of ${session.sessionId} (room ${session.roomId})`)
  const size = Buffer.alloc(4)
  size.writeUInt32BE(8 + text.length)
  return Buffer.concat([ftyp, size, Buffer.from('free'), text])
}
