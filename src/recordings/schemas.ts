import { Type } from '../lib/typebox.js'
import { errorResponse, upstreamErrors, validationErrorExample } from '../lib/schemas.js'
import { errors as teleconsultationErrors } from '../teleconsultations/schemas.js'
import { TranscriptionParamsSchema } from '../transcription/schemas.js'

const EXAMPLE_ID = '65a1f0c2e4b0a1b2c3d4e5f6'
const EXAMPLE_SESSION = 'session_0123456789abcdef0123'

/** The same path as the transcription route: the teleconsultation, then a session of its room. */
export const RecordingParamsSchema = TranscriptionParamsSchema

export const RecordingLinkSchema = Type.Object({
  url: Type.String({ format: 'uri', description: 'Kaleyra\'s temporary download link to the recording file (a bearer link: whoever has it can download until it expires)' }),
  expiresAt: Type.String({ format: 'date-time', description: 'When the link stops working (RFC 3339)' })
}, {
  description: 'A temporary link to the session\'s recording, valid RECORDING_LINK_TTL_S seconds (never the file itself)',
  examples: [{ url: 'https://storage.example.com/recordings/session_0123456789abcdef0123.mp4?signature=…', expiresAt: '2026-12-02T10:35:00.000Z' }]
})

const Flag = (what: string) => Type.Union([Type.Boolean(), Type.Null()], {
  description: `Whether the ${what} is available: from Kaleyra's on_${what}_available webhook (KALEYRA_WEBHOOKS=true); false when the service does not record (or transcribe); null when not known (webhooks off: ask the ${what} route)`
})

export const SessionSchema = Type.Object({
  sessionId: Type.String({ description: 'Kaleyra session id (one per run of the call)', examples: [EXAMPLE_SESSION] }),
  startDate: Type.Union([Type.String(), Type.Null()], { description: 'When the session started, as Kaleyra says (null: not said)' }),
  endDate: Type.Union([Type.String(), Type.Null()], { description: 'When it ended (null: still running, or not said)' }),
  recording: Flag('recording'),
  transcription: Flag('transcription')
})

export const SessionsSchema = Type.Object({
  sessions: Type.Array(SessionSchema, { description: 'Sessions of the teleconsultation\'s current Kaleyra room, oldest first (none before the room exists)' })
}, {
  description: 'The runs of the call',
  examples: [{ sessions: [{ sessionId: EXAMPLE_SESSION, startDate: '2026-12-02T10:01:12Z', endDate: '2026-12-02T10:24:40Z', recording: true, transcription: false }] }]
})

export const recordingErrors = {
  badRequest: errorResponse('Invalid path parameters', validationErrorExample('params.sessionId must match pattern "^[a-zA-Z0-9._-]{1,128}$"')),
  unauthorized: errorResponse('The caller is not a participant', 'Unauthorized user'),
  notFound: errorResponse('No such teleconsultation or session, or the recording is not ready yet (processing can take hours after the call)',
    'Recording not available yet', `Session ${EXAMPLE_SESSION} not found in teleconsultation ${EXAMPLE_ID}`, `Room with id ${EXAMPLE_ID} not found on CRUD`),
  conflict: errorResponse('Recording is disabled (DEFAULT_RECORDING_TYPE=none)', 'Recording not available: recording is disabled'),
  ...upstreamErrors
}

export const sessionsErrors = {
  badRequest: teleconsultationErrors.badId,
  unauthorized: teleconsultationErrors.unauthorized,
  notFound: teleconsultationErrors.notFound,
  ...upstreamErrors
}
