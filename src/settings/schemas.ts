import { Type, type Static } from '../lib/typebox.js'
import { KALEYRA_ID_PATTERN } from '../kaleyra/model.js'
import { errorResponse, jsonBodyErrors, upstreamErrors, validationErrorExample } from '../lib/schemas.js'

/** The multipart field of `POST /settings/background-image` that carries the image (the BFF's own name). */
export const BACKGROUND_UPLOAD_FIELD = 'virtual_background'

const NullableString = (description: string) => Type.Union([Type.String(), Type.Null()], { description })

/** Documentation only: a multipart body is read as a stream by the route, not validated as an object. */
export const BackgroundUploadBodySchema = Type.Object({
  [BACKGROUND_UPLOAD_FIELD]: Type.String({ format: 'binary', description: 'The image: JPEG, at most 10 MB (Kaleyra suggests at least 1280×1280)' })
}, { required: [BACKGROUND_UPLOAD_FIELD] })

export const BackgroundUploadedSchema = Type.Object({
  virtual_background: Type.Object({
    background_alias: Type.String({ description: 'Name of the background, for PATCH /settings/update' }),
    url: Type.String(),
    creation_date: Type.String()
  })
}, {
  examples: [{
    virtual_background: {
      background_alias: '3e4d0683d78be3a884b7a60028644f57',
      url: 'https://static.bandyer.com/backgrounds/3e4d0683d78be3a884b7a60028644f57.jpg',
      creation_date: '2030-01-10T11:41:19.000Z'
    }
  }]
})
export type BackgroundUploaded = Static<typeof BackgroundUploadedSchema>

export const CompanyUpdateBodySchema = Type.Object({
  background_alias: Type.String({ pattern: KALEYRA_ID_PATTERN, description: 'Alias answered by POST /settings/background-image', examples: ['3e4d0683d78be3a884b7a60028644f57'] })
}, { examples: [{ background_alias: '3e4d0683d78be3a884b7a60028644f57' }] })

export const CompanySchema = Type.Object({
  company: Type.Object({
    name: Type.String(),
    default_language: NullableString('Language of the calls when a link does not choose one'),
    default_background: Type.Union([
      Type.Object({ alias: Type.String(), url: NullableString('Image url'), creation_date: NullableString('Upload date') }),
      Type.Null()
    ], { description: 'The background used when a link asks for one' }),
    end_call_redirect_url: NullableString('Page opened when a call ends'),
    user_details_provider_url: NullableString('Kaleyra user details provider'),
    end_call_redirect_timeout_ms: Type.Union([Type.Number(), Type.Null()])
  })
}, {
  examples: [{
    company: {
      name: 'Acme Clinic',
      default_language: 'it',
      default_background: {
        alias: '3e4d0683d78be3a884b7a60028644f57',
        url: 'https://static.bandyer.com/backgrounds/3e4d0683d78be3a884b7a60028644f57.jpg',
        creation_date: '2030-01-10T11:41:19.000Z'
      },
      end_call_redirect_url: '',
      user_details_provider_url: '',
      end_call_redirect_timeout_ms: 5000
    }
  }]
})
export type CompanyView = Static<typeof CompanySchema>

export const errors = {
  badRequest: errorResponse('Missing, empty or malformed input', 'Failed POST /settings/background-image: multipart field virtual_background is required'),
  unauthorized: errorResponse('No authenticated user in the request', 'Unauthorized user'),
  forbidden: errorResponse('SETTINGS_ADMIN_GROUPS is set and the caller is in none of them', 'Forbidden'),
  idle: errorResponse('The client sent nothing of the upload for UPLOAD_IDLE_TIMEOUT_MS; nothing was stored', 'Failed POST /settings/background-image: nothing of the upload arrived for 10000 ms'),
  tooManyUploads: errorResponse('The caller already has UPLOADS_PER_CALLER uploads in progress; Retry-After says when to try again', 'Failed POST /settings/background-image: the caller already has 4 uploads in progress, retry when one has ended'),
  tooLarge: errorResponse('The file is larger than 10 MB', 'Failed POST /settings/background-image: the file is larger than 10 MB'),
  unsupported: errorResponse('Not multipart, or the file is not a JPEG image', 'Failed POST /settings/background-image: the virtual_background file must be a JPEG image (image/jpeg), not image/png'),
  updateBadRequest: errorResponse(
    'Invalid body or unknown alias',
    'Failed PATCH /settings/update: 3e4d0683d78be3a884b7a60028644f57 is not a virtual background of the company',
    validationErrorExample('body must have required property \'background_alias\'')
  ),
  bodyTooLarge: jsonBodyErrors[413],
  ...upstreamErrors
}
