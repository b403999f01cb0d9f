// A pass-through HTTP proxy on 127.0.0.1 in front of the Kaleyra emulator, for what the emulator
// does not show: how many calls run at once, how many bytes really crossed, and answers streamed
// without a content-length.
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ProxyOptions {
  /** Answers to paths matching it are streamed without content-length (chunked). */
  chunkedPaths?: RegExp
}

export interface KaleyraProxy {
  url: string
  /** Highest number of simultaneous requests seen on paths matching `pattern`. */
  maxConcurrent: (pattern: RegExp) => number
  /** Response bytes forwarded to the service for paths matching `pattern`. */
  responseBytes: (pattern: RegExp) => number
  /** Request body bytes forwarded to Kaleyra for paths matching `pattern`. */
  requestBytes: (pattern: RegExp) => number
  close: () => Promise<void>
}

interface Call { path: string, start: number, end: number, requestBytes: number, responseBytes: number }

export async function startKaleyraProxy (targetUrl: string, opts: ProxyOptions = {}): Promise<KaleyraProxy> {
  const target = new URL(targetUrl)
  const calls: Call[] = []
  let clock = 0

  const server = createServer((req, res) => {
    const call: Call = { path: req.url ?? '', start: ++clock, end: Infinity, requestBytes: 0, responseBytes: 0 }
    calls.push(call)
    const done = (): void => {
      if (call.end === Infinity) call.end = ++clock
    }
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      answer => {
        const headers: IncomingHttpHeaders = { ...answer.headers }
        if (opts.chunkedPaths?.test(call.path) === true) delete headers['content-length']
        res.writeHead(answer.statusCode ?? 502, headers)
        answer.on('data', (chunk: Buffer) => {
          call.responseBytes += chunk.length
        })
        answer.pipe(res)
        answer.on('end', done)
      }
    )
    req.on('data', (chunk: Buffer) => { call.requestBytes += chunk.length })
    req.pipe(upstream)
    upstream.on('error', () => { done(); res.destroy() })
    res.on('close', () => { done(); upstream.destroy() })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  const matching = (pattern: RegExp): Call[] => calls.filter(c => pattern.test(c.path))
  return {
    url: `http://127.0.0.1:${port}`,
    maxConcurrent (pattern) {
      const selected = matching(pattern)
      return Math.max(0, ...selected.map(c => selected.filter(o => o.start <= c.start && o.end > c.start).length))
    },
    responseBytes: (pattern) => matching(pattern).reduce((sum, c) => sum + c.responseBytes, 0),
    requestBytes: (pattern) => matching(pattern).reduce((sum, c) => sum + c.requestBytes, 0),
    async close () {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
