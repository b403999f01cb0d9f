// The second origin of the emulator: where files given as temporary links are downloaded from
// (a storage host in Kaleyra's case): transcriptions, and recordings until their link expires.
// It takes no apikey and records the headers it receives, so tests can check that the service
// sends its credentials to Kaleyra's origin only.
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pipeline } from 'node:stream'
import { pathOf } from './http.js'
import type { EmulatorState } from './state.js'
import { RECORDING_CONTENT_TYPE, recordingFile } from './recording.js'
import { transcriptionPayload } from './transcription.js'

export interface FileOrigin { url: string, close: () => Promise<void> }

function answer (res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function notFound (res: ServerResponse): void {
  answer(res, 404, { error: 'not_found', message: 'file not found' })
}

export async function startFileOrigin (state: EmulatorState, host: string): Promise<FileOrigin> {
  const server: Server = createServer((req, res) => {
    const path = pathOf(req.url ?? '/')
    const entry = state.logFileRequest({ method: req.method ?? 'GET', path, headers: { ...req.headers }, status: 0, bytes: 0 })
    const token = /^\/files\/([\w-]+)$/.exec(path)?.[1]
    const link = token === undefined ? undefined : state.fileLinks.get(token)
    const session = link === undefined ? undefined : state.sessions.get(link.sessionId)
    if (req.method !== 'GET' || link === undefined || session === undefined) {
      entry.status = 404
      notFound(res)
      return
    }
    if (link.expiresAt !== null && state.now() >= link.expiresAt) {
      // As a storage host answers an expired signed URL.
      entry.status = 403
      answer(res, 403, { error: 'link_expired', message: 'the link has expired' })
      return
    }
    if (link.file === 'recording') {
      const file = recordingFile(session)
      entry.status = 200
      entry.bytes = file.length
      res.writeHead(200, { 'content-type': RECORDING_CONTENT_TYPE, 'content-length': file.length })
      res.end(file)
      return
    }
    if (session.transcription === null) {
      entry.status = 404
      notFound(res)
      return
    }
    const { length, stream } = transcriptionPayload(session, session.transcription)
    entry.status = 200
    stream.on('data', (chunk: Buffer) => { entry.bytes += chunk.length })
    res.writeHead(200, { 'content-type': 'application/json', ...(state.settings.chunkedFiles ? {} : { 'content-length': length }) })
    // A client that leaves ends the stream (and its generation) too.
    pipeline(stream, res, () => {})
  })
  await new Promise<void>(resolve => server.listen(0, host, resolve))
  const { address, family, port } = server.address() as AddressInfo
  return {
    url: `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
