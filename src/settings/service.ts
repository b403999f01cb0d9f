import type { AppConfig } from '../config/index.js'
import { commaList } from '../config/env.js'
import type { KaleyraClient } from '../kaleyra/client.js'
import { KaleyraRejectedError } from '../kaleyra/errors.js'
import type { Company } from '../kaleyra/model.js'
import type { IdentityProvider } from '../identity/types.js'
import {
  BadUpload,
  ForbiddenError,
  TooManyUploads,
  UnauthorizedError,
  UnknownBackground,
  UnsupportedUpload,
  UploadIdle,
  UploadTooLarge
} from '../lib/errors.js'
import type { RequestContext } from '../upstream/request-context.js'
import type { BackgroundUploaded, CompanyView } from './schemas.js'

/** The limit the original service documented; Kaleyra itself accepts up to 16 MB. */
export const MAX_BACKGROUND_UPLOAD_BYTES = 10 * 1024 * 1024
export const JPEG_CONTENT_TYPES = ['image/jpeg', 'image/jpg']
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff])

/** A file part as it arrives: read once, chunk by chunk. */
export interface IncomingFile {
  filename: string
  mimetype: string
  content: AsyncIterable<Buffer>
  /** Stops reading at once, a pending read included (the client went idle). */
  abort?: () => void
}

export type SettingsService = ReturnType<typeof createSettingsService>

function toCompanyView (company: Company): CompanyView {
  const bg = company.defaultBackground
  return {
    company: {
      name: company.name,
      default_language: company.defaultLanguage,
      default_background: bg === null ? null : { alias: bg.alias, url: bg.url, creation_date: bg.creationDate },
      end_call_redirect_url: company.endCallRedirectUrl,
      user_details_provider_url: company.userDetailsProviderUrl,
      end_call_redirect_timeout_ms: company.endCallRedirectTimeoutMs
    }
  }
}

/** `pending`, or UploadIdle (after `onIdle`) when it has not settled within `ms`. */
async function withinIdle<T> (pending: Promise<T>, ms: number, onIdle?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const idle = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { onIdle?.(); reject(new UploadIdle(ms)) }, ms)
  })
  try {
    return await Promise.race([pending, idle])
  } finally {
    clearTimeout(timer)
  }
}

/** Reads until the first bytes can be checked; `done` tells whether the file ended already. */
async function readHead (nextChunk: () => Promise<IteratorResult<Buffer>>): Promise<{ head: Buffer, done: boolean }> {
  let head = Buffer.alloc(0)
  while (head.length < JPEG_MAGIC.length) {
    const next = await nextChunk()
    if (next.done === true) return { head, done: true }
    head = Buffer.concat([head, next.value])
  }
  return { head, done: false }
}

export function createSettingsService (
  deps: { config: AppConfig; kaleyra: KaleyraClient; identity: IdentityProvider }
) {
  const adminGroups = commaList(deps.config.env.SETTINGS_ADMIN_GROUPS)
  const tooLarge = (): Error => new UploadTooLarge('10 MB')
  const notJpeg = (): Error => new UnsupportedUpload('the virtual_background file is not a JPEG image')
  const idleMs = deps.config.env.UPLOAD_IDLE_TIMEOUT_MS
  const perCaller = deps.config.env.UPLOADS_PER_CALLER
  /** Uploads in progress on this replica, per caller. */
  const inProgress = new Map<string, number>()

  /** Refuses the upload while nothing of it has been sent to Kaleyra yet. */
  async function checkedContent (
    file: IncomingFile
  ): Promise<{ content: AsyncIterable<Buffer>; inputFailure: () => Error | null; release: () => Promise<void> }> {
    if (!JPEG_CONTENT_TYPES.includes(file.mimetype.toLowerCase())) {
      throw new UnsupportedUpload(`the virtual_background file must be a JPEG image (image/jpeg), not ${file.mimetype}`)
    }
    const iterator = file.content[Symbol.asyncIterator]()
    // Only the wait for the client counts: while Kaleyra is slow to read, nothing is asked of it.
    const nextChunk = async (): Promise<IteratorResult<Buffer>> => await withinIdle(iterator.next(), idleMs, file.abort)
    const { head, done } = await readHead(nextChunk).catch((err: unknown) => {
      throw err instanceof UploadIdle ? err : new BadUpload('malformed multipart body')
    })
    if (head.length === 0) throw new BadUpload('the virtual_background file is empty')
    if (!head.subarray(0, JPEG_MAGIC.length).equals(JPEG_MAGIC)) throw notJpeg()
    if (head.length > MAX_BACKGROUND_UPLOAD_BYTES) throw tooLarge()

    // Errors of the incoming side must not pass for Kaleyra failures once the upload has started.
    let failure: Error | null = null
    async function * content (): AsyncGenerator<Buffer> {
      let size = head.length
      yield head
      if (done) return
      for (;;) {
        let next: IteratorResult<Buffer>
        try {
          next = await nextChunk()
        } catch (err) {
          failure = err instanceof UploadIdle ? err : new BadUpload('the upload was interrupted or is malformed')
          throw failure
        }
        if (next.done === true) return
        size += next.value.length
        if (size > MAX_BACKGROUND_UPLOAD_BYTES) throw (failure = tooLarge())
        yield next.value
      }
    }
    // Stops reading the request once the upload is over, whichever way (even if it never started).
    const release = async (): Promise<void> => { await iterator.return?.() }
    return { content: content(), inputFailure: () => failure, release }
  }

  return {
    /** 401 without a caller; with SETTINGS_ADMIN_GROUPS, 403 for callers in none of them. */
    async authorize (ctx: RequestContext): Promise<void> {
      if (ctx.callerId === null) throw new UnauthorizedError()
      if (adminGroups.length === 0) return
      const groups = await deps.identity.callerGroups(ctx)
      if (!groups.some(g => adminGroups.includes(g))) throw new ForbiddenError()
    },

    /**
     * Counts an upload of the caller until `release` is called: beyond UPLOADS_PER_CALLER in
     * progress on this replica, TooManyUploads (nothing read, nothing sent).
     */
    beginUpload (ctx: RequestContext): () => void {
      const caller = ctx.callerId ?? ''
      const count = inProgress.get(caller) ?? 0
      if (count >= perCaller) throw new TooManyUploads(perCaller)
      inProgress.set(caller, count + 1)
      let released = false
      return () => {
        if (released) return
        released = true
        const left = (inProgress.get(caller) ?? 1) - 1
        if (left > 0) inProgress.set(caller, left)
        else inProgress.delete(caller)
      }
    },

    /** Waits for the client (e.g. the first part of the form) at most UPLOAD_IDLE_TIMEOUT_MS. */
    async fromClient<T> (pending: Promise<T>): Promise<T> {
      return await withinIdle(pending, idleMs)
    },

    /** Streams a JPEG to Kaleyra: checked by its first bytes, cut at 10 MB, never held whole. */
    async uploadBackground (file: IncomingFile): Promise<BackgroundUploaded> {
      const { content, inputFailure, release } = await checkedContent(file)
      try {
        const bg = await deps.kaleyra.uploadVirtualBackground({ filename: file.filename, contentType: 'image/jpeg', content })
        return { virtual_background: { background_alias: bg.alias, url: bg.url, creation_date: bg.creationDate } }
      } catch (err) {
        const failure = inputFailure()
        if (failure !== null) throw failure
        if (err instanceof KaleyraRejectedError) {
          if (err.upstreamStatus === 413) throw tooLarge()
          if (err.upstreamStatus === 415) throw notJpeg()
          if (err.upstreamStatus === 400 || err.upstreamStatus === 422) {
            throw new BadUpload(`Kaleyra refused the image (${err.errorName ?? `status ${err.upstreamStatus}`})`)
          }
        }
        throw err
      } finally {
        await release()
      }
    },

    async setDefaultBackground (alias: string): Promise<CompanyView> {
      try {
        return toCompanyView(await deps.kaleyra.updateCompany(alias))
      } catch (err) {
        if (err instanceof KaleyraRejectedError && [400, 404, 422].includes(err.upstreamStatus ?? 0)) {
          throw new UnknownBackground(alias)
        }
        throw err
      }
    }
  }
}
