// A proxy on 127.0.0.1 in front of an upstream (the CRUD fake, the Kaleyra emulator) that loses
// answers: the request is forwarded and the upstream acts on it, its whole answer arrives here,
// and then the connection to the service is reset instead. Unlike the fakes' own faults, the
// upstream has no idea: whatever it does, it has done.
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface LostAnswerRule {
  method: string
  path: RegExp
  /** How many matching answers to lose (default 1). */
  times?: number
}

export interface LostAnswerProxy {
  url: string
  /** Loses the next matching answers. */
  lose: (rule: LostAnswerRule) => void
  /** Answers lost so far, as `METHOD path status` of what the upstream answered. */
  lost: () => string[]
  clear: () => void
  close: () => Promise<void>
}

export async function startLostAnswerProxy (targetUrl: string): Promise<LostAnswerProxy> {
  const target = new URL(targetUrl)
  const rules: Array<Required<LostAnswerRule>> = []
  const lost: string[] = []

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET'
    const path = req.url ?? '/'
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method, path, headers: { ...req.headers, host: target.host } },
      answer => {
        const chunks: Buffer[] = []
        answer.on('data', (chunk: Buffer) => chunks.push(chunk))
        answer.on('end', () => {
          const rule = rules.find(r => r.times > 0 && r.method === method && r.path.test(path.split('?')[0]))
          if (rule !== undefined) {
            rule.times--
            lost.push(`${method} ${path} ${answer.statusCode ?? 0}`)
            res.socket?.destroy()
            return
          }
          const headers: IncomingHttpHeaders = { ...answer.headers }
          res.writeHead(answer.statusCode ?? 502, headers)
          res.end(Buffer.concat(chunks))
        })
      }
    )
    upstream.on('error', () => { res.socket?.destroy() })
    req.pipe(upstream)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}${target.pathname.replace(/\/$/, '')}`,
    lose (rule) { rules.push({ times: 1, ...rule }) },
    lost: () => [...lost],
    clear () { rules.length = 0 },
    async close () {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
