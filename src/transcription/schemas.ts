import { Type } from '../lib/typebox.js'
import { KALEYRA_ID_PATTERN } from '../kaleyra/model.js'
import { errorResponse, upstreamErrors, validationErrorExample } from '../lib/schemas.js'

export const TranscriptionParamsSchema = Type.Object({
  roomId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'Teleconsultation id (not the Kaleyra room id)', examples: ['65a1f0c2e4b0a1b2c3d4e5f6'] }),
  sessionId: Type.String({ pattern: KALEYRA_ID_PATTERN, description: 'Kaleyra session of the room (one per call run)', examples: ['session_0123456789abcdef0123'] })
})

/** Passed through as Kaleyra sends it (streamed, not re-serialized). */
export const TranscriptionSchema = Type.Object({}, {
  additionalProperties: true,
  description: 'The transcription document, as Kaleyra returns it',
  examples: [{ session_id: 'session_0123456789abcdef0123', language: 'en', segments: [{ speaker: 'speaker_0', start: '00:00:01', text: 'Good morning' }] }]
})

export const errors = {
  badRequest: errorResponse('Invalid path parameters', validationErrorExample('params.sessionId must match pattern "^[a-zA-Z0-9._-]{1,128}$"')),
  unauthorized: errorResponse('The caller is not a participant', 'Unauthorized user'),
  notFound: errorResponse('No such teleconsultation or session, or the transcription is not ready yet', 'Transcription not available yet'),
  conflict: errorResponse('Recording or transcription is disabled (DEFAULT_RECORDING_TYPE=none, OFFLINE_TRANSCRIPTION=false)',
    'Transcription not available: recording is disabled', 'Transcription not available: transcription is disabled'),
  tooLarge: errorResponse('The transcription is larger than TRANSCRIPTION_MAX_FILE_SIZE', 'Transcription too large: more than TRANSCRIPTION_MAX_FILE_SIZE (50MB)'),
  ...upstreamErrors,
  503: errorResponse(
    'Kaleyra refused the call for now (429), or a transcription sent without content-length finds no room in memory nor in the temporary directory (`Transcription temporarily unavailable, retry later`); the Retry-After header says when to try again',
    'Kaleyra service unavailable'
  )
}
