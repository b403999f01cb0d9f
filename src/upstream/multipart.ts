// A multipart/form-data body with one file part, produced while the file is read.
// undici's FormData needs a Blob, i.e. the whole file in memory, and the form-data packages
// either buffer too or bring a CommonJS stream stack; a single file part is a boundary line, a
// few headers and the bytes, so it is written by hand and never holds more than one chunk.
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'

export interface MultipartFile {
  field: string
  filename: string
  contentType: string
  content: AsyncIterable<Uint8Array>
}

export interface MultipartBody {
  /** The content-type header, boundary included. */
  contentType: string
  body: Readable
}

/** Header values cannot carry quotes or line breaks; anything unusual in a file name is dropped. */
function headerSafe (value: string): string {
  return value.replace(/[^\w .()-]/g, '').trim().slice(0, 128)
}

export function multipartFileBody (file: MultipartFile): MultipartBody {
  const boundary = `----tcs-${randomBytes(16).toString('hex')}`
  const filename = headerSafe(file.filename) || 'file'
  const head = Buffer.from(
    `--${boundary}\r\n` +
    `Content-Disposition: form-data; name="${headerSafe(file.field)}"; filename="${filename}"\r\n` +
    `Content-Type: ${/^[\w.+-]+\/[\w.+-]+$/.test(file.contentType) ? file.contentType : 'application/octet-stream'}\r\n\r\n`
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)

  async function * parts (): AsyncGenerator<Uint8Array> {
    yield head
    yield * file.content
    yield tail
  }

  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Readable.from(parts(), { objectMode: false }) }
}
