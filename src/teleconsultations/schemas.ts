import { Type, type Static } from '../lib/typebox.js'
import { errorResponse, jsonBodyErrors, NoContent, upstreamErrors, validationErrorExample } from '../lib/schemas.js'
import { IdempotencyKeyReused, IN_PROGRESS_MESSAGE } from './idempotency.js'

// Ids and names no user can have: blank, or with control characters (NUL, CR, LF...).
const NO_CONTROL_CHARS = '^[^\\u0000-\\u001F\\u007F]*$'
const Id = Type.String({ minLength: 1, maxLength: 256, pattern: '^(?=.*\\S)[^\\u0000-\\u001F\\u007F]+$' })

export const ParticipantDataSchema = Type.Object({
  userId: Type.Optional({ ...Id, description: 'External id of the participant (identity-provider id in identity-provider mode)' }),
  userExternalId: Type.Optional({ ...Id, description: '1.x name of userId, still accepted', deprecated: true }),
  groups: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 64, description: 'Groups deciding the Kaleyra role (required without an identity provider)' })),
  group: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Single group, 1.x spelling', deprecated: true })),
  fullName: Type.Optional(Type.String({ minLength: 1, maxLength: 256, pattern: NO_CONTROL_CHARS, description: 'Name shown in the call (required without an identity provider)' })),
  language: Type.Optional(Type.String({ minLength: 2, maxLength: 16, examples: ['it'] }))
}, { examples: [{ userId: 'user1_external_id', groups: ['doctor'], fullName: 'Joe Smith', language: 'it' }] })

export const ParticipantsSchema = Type.Union([
  Type.Array(Id, { maxItems: 25, description: 'Ids of all participants (identity-provider mode only)' }),
  Type.Object({
    number: Type.Integer({ description: 'Expected number of participants (2 to 25)' }),
    data: Type.Array(ParticipantDataSchema, { maxItems: 25, description: 'The participants known so far' })
  })
], { description: 'All participants, or the expected number and the ones known so far' })

const DateTime = (description: string, example: string) => Type.String({ format: 'date-time', description, examples: [example] })
const Duration = Type.Integer({ minimum: 1, maximum: 31_536_000, description: 'Alternative to end_date; at least 300 (a year at most)', examples: [3600] })

export const CreateBodySchema = Type.Object({
  participants: ParticipantsSchema,
  start_date: DateTime('Start of the appointment (ISO 8601)', '2030-02-22T15:30:00.000Z'),
  end_date: Type.Optional(DateTime('End of the appointment; give it or duration_in_seconds', '2030-02-22T16:30:00.000Z')),
  duration_in_seconds: Type.Optional(Duration)
}, {
  examples: [{
    participants: {
      number: 2,
      data: [
        { userId: 'doctor-1', groups: ['doctor'], fullName: 'Joe Smith', language: 'it' },
        { userId: 'patient-1', groups: ['patient'], fullName: 'Jane Doe', language: 'it' }
      ]
    },
    start_date: '2030-02-22T15:30:00.000Z',
    end_date: '2030-02-22T16:30:00.000Z'
  }]
})
export type CreateBody = Static<typeof CreateBodySchema>

export const UpdateBodySchema = Type.Object({
  participants: Type.Optional(ParticipantsSchema),
  start_date: Type.Optional(DateTime('New start', '2030-02-22T16:00:00.000Z')),
  end_date: Type.Optional(DateTime('New end', '2030-02-22T17:00:00.000Z')),
  duration_in_seconds: Type.Optional(Duration)
}, { examples: [{ start_date: '2030-02-22T16:00:00.000Z', duration_in_seconds: 1800 }] })
export type UpdateBody = Static<typeof UpdateBodySchema>

export const IdempotencyHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(Type.String({
    minLength: 1,
    maxLength: 255,
    pattern: '^[\\x21-\\x7E]+$',
    description: 'IDEMPOTENCY_KEYS=true: a key of the client\'s choice (printable ASCII, no spaces, up to 255) making a retried creation safe: for 24 h the same key with the same body answers the first answer and creates nothing more (header `idempotent-replayed: true`); with another body 422; while the first request runs 409.',
    examples: ['8e03978e-40d5-43e8-bc93-6894a57f9324']
  }))
})

export const IdParamsSchema = Type.Object({
  id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'Teleconsultation id (the store id, not the Kaleyra room id)', examples: ['65a1f0c2e4b0a1b2c3d4e5f6'] })
})

export const ViewQuerySchema = Type.Object({
  useBackground: Type.Optional(Type.Boolean({ description: 'Open the call with the company virtual background', examples: [true] })),
  language: Type.Optional(Type.String({ maxLength: 16, description: '`it` or `en`; any other value means the company default', examples: ['it'] }))
})

const Nullable = <
  T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Number> | ReturnType<typeof Type.Boolean>
>(
    schema: T
  ) => Type.Union([schema, Type.Null()])

export const DetailsSchema = Type.Object({
  recording: Nullable(Type.String()),
  recordingStatus: Nullable(Type.String()),
  callType: Nullable(Type.String()),
  description: Nullable(Type.String()),
  status: Nullable(Type.String()),
  disabled: Nullable(Type.Boolean()),
  creationDate: Nullable(Type.String()),
  durationInSeconds: Nullable(Type.Number()),
  durationUsedInSeconds: Nullable(Type.Number()),
  live: Nullable(Type.Boolean())
}, { description: 'The Kaleyra room as Kaleyra reports it; absent while no room exists' })

export const ViewSchema = Type.Object(
  {
    bandyerUserId: Type.String({ description: 'Kaleyra id of the caller' }),
    accessLinkURL: Type.Union([Type.String(), Type.Null()], {
      description: 'Personal link; null until the room exists and the teleconsultation can no longer change'
    }),
    participantsBandyerCall: Type.Array(
      Type.Object({ bandyerUserId: Type.String(), fullName: Type.Optional(Type.String()) })
    ),
    status: Type.Optional(
      Type.Literal('ended', {
        description: 'ROOM_CLOSE_AFTER_END_MS: the room was closed after the end date (accessLinkURL is then null)'
      })
    ),
    details: Type.Optional(DetailsSchema)
  },
  {
    examples: [
      {
        bandyerUserId: 'tcs-3f1d9c0b6a2e4f5d8c7b6a5f4e3d2c1b0a9f8e7d',
        accessLinkURL: 'https://sandbox.bandyer.com/eu/direct-rest-call-handler/abc123?language=it',
        participantsBandyerCall: [
          { bandyerUserId: 'tcs-3f1d9c0b6a2e4f5d8c7b6a5f4e3d2c1b0a9f8e7d', fullName: 'Joe Smith' }
        ],
        details: {
          recording: 'none',
          recordingStatus: 'stopped',
          callType: 'audio_video',
          description: null,
          status: 'NOT_RUNNING',
          disabled: false,
          creationDate: '2030-02-20T10:00:00.000Z',
          durationInSeconds: null,
          durationUsedInSeconds: 0,
          live: true
        }
      }
    ]
  }
)

export const CreatedSchema = Type.Object({ roomId: Type.String({ description: 'Teleconsultation id' }) }, { examples: [{ roomId: '65a1f0c2e4b0a1b2c3d4e5f6' }] })

export const UploadsDeletedSchema = Type.Object({
  total: Type.Integer({ minimum: 0, description: 'Files shared in the room' }),
  deleted: Type.Integer({ minimum: 0, description: 'Files deleted; less than total when some could not be (repeat the request later)' })
}, { examples: [{ total: 2, deleted: 2 }] })

const EXAMPLE_ID = '65a1f0c2e4b0a1b2c3d4e5f6'
const invalidDate = validationErrorExample('body.start_date must match format "date-time"')
const frozen = (label: string): string => `Failed ${label}: teleconsultation can no longer be modified`

export const errors = {
  createBadRequest: errorResponse('Invalid request', 'Failed POST /teleconsultation: no plus user in room', invalidDate),
  updateBadRequest: errorResponse('Invalid request', 'Failed PATCH /teleconsultation: no plus user in room', invalidDate),
  participantBadRequest: errorResponse('Invalid request', `Failed POST /teleconsultation/${EXAMPLE_ID}/participants/data: no plus user in room`),
  badId: errorResponse('Invalid teleconsultation id', validationErrorExample('params.id must match pattern "^[A-Za-z0-9_-]{1,64}$"')),
  viewBadRequest: errorResponse('Invalid teleconsultation id or query', validationErrorExample('querystring.language must NOT have more than 16 characters')),
  unauthorized: errorResponse('The caller is not a participant', 'Unauthorized user'),
  credentialsRefused: errorResponse('Identity-provider mode: the identity service refused the caller\'s credentials', 'Unauthorized user'),
  forbidden: errorResponse('WRITE_GROUPS or WRITE_BACKOFFICE is set and the caller is in none of those groups nor from the back office', 'Forbidden'),
  notFound: errorResponse('No such teleconsultation', `Room with id ${EXAMPLE_ID} not found on CRUD`),
  updateConflict: errorResponse('The teleconsultation can no longer be modified', frozen(`PATCH /teleconsultation/${EXAMPLE_ID}`)),
  deleteConflict: errorResponse('Modified concurrently three times in a row: retry', `Failed DELETE /teleconsultation/${EXAMPLE_ID}: the teleconsultation was modified concurrently, retry`),
  participantConflict: errorResponse('The teleconsultation can no longer be modified, or (IDEMPOTENCY_KEYS) a request with the same Idempotency-Key is in progress', frozen(`POST /teleconsultation/${EXAMPLE_ID}/participants/data`), IN_PROGRESS_MESSAGE),
  idempotencyInProgress: errorResponse('IDEMPOTENCY_KEYS: a request with the same Idempotency-Key is in progress; retry later', IN_PROGRESS_MESSAGE),
  idempotencyKeyReused: errorResponse('IDEMPOTENCY_KEYS: the Idempotency-Key was used for another request', new IdempotencyKeyReused().message),
  ...jsonBodyErrors,
  ...upstreamErrors
}

export { NoContent }
