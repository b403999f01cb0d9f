// A small OTLP/HTTP trace receiver on 127.0.0.1: what a collector would get from the service's
// exporter (OTLP JSON on POST /v1/traces), flattened to one record per span.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

type AnyValue = {
  stringValue?: string
  intValue?: number | string
  boolValue?: boolean
  doubleValue?: number
  arrayValue?: { values?: AnyValue[] }
}
interface KeyValue {
  key: string
  value: AnyValue
}
interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  attributes?: KeyValue[]
  events?: Array<{ attributes?: KeyValue[] }>
}
interface OtlpExport {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] }
    scopeSpans?: Array<{ scope?: { name?: string }; spans?: OtlpSpan[] }>
  }>
}

/** OTLP span kinds. */
export const SPAN_KIND = { SERVER: 2, CLIENT: 3 } as const

export interface ReceivedSpan {
  traceId: string
  spanId: string
  /** '' for a root span. */
  parentSpanId: string
  name: string
  kind: number
  scope: string
  attributes: Record<string, unknown>
  resource: Record<string, unknown>
}

export interface OtlpReceiver {
  /** What OTEL_EXPORTER_OTLP_ENDPOINT holds (the exporter appends /v1/traces). */
  url: string
  spans: ReceivedSpan[]
  /** Every request body received, as text: for "this never appears anywhere" checks. */
  bodies: string[]
  /** Paths and content types of the export requests. */
  requests: Array<{ path: string, contentType: string }>
  close: () => Promise<void>
}

function valueOf (value: AnyValue): unknown {
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(valueOf)
  return value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue
}

function attributesOf (list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(kv => [kv.key, valueOf(kv.value)]))
}

export async function startOtlpReceiver (t: { teardown: (fn: () => unknown) => void }): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  const bodies: string[] = []
  const requests: Array<{ path: string, contentType: string }> = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      requests.push({ path: req.url ?? '', contentType: String(req.headers['content-type']) })
      bodies.push(text)
      try {
        const body = JSON.parse(text) as OtlpExport
        for (const rs of body.resourceSpans ?? []) {
          const resource = attributesOf(rs.resource?.attributes)
          for (const ss of rs.scopeSpans ?? []) {
            for (const span of ss.spans ?? []) {
              spans.push({
                traceId: span.traceId,
                spanId: span.spanId,
                parentSpanId: span.parentSpanId ?? '',
                name: span.name,
                kind: span.kind,
                scope: ss.scope?.name ?? '',
                attributes: attributesOf(span.attributes),
                resource
              })
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"not OTLP JSON"}')
      }
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const close = async (): Promise<void> => {
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }
  t.teardown(close)
  return { url: `http://127.0.0.1:${port}`, spans, bodies, requests, close }
}
