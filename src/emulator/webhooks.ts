// Kaleyra's webhooks, as the emulator sends them: the v1 envelope, signed with the API key
// (`bandyer-signature`), POSTed to the URL a test or the demo set. One attempt each.
import { request } from 'undici'
import { KALEYRA_SIGNATURE_HEADER } from '../kaleyra/webhooks.js'
import { signatureHeader } from '../lib/signature.js'

export interface WebhookDelivery { event: string, status: number }

export class WebhookSender {
  url: string | null = null
  readonly deliveries: WebhookDelivery[] = []
  private readonly running = new Set<Promise<void>>()

  constructor (private readonly apiKey: string) {}

  /** Sends when a URL is set; never throws (status 0: no answer). */
  send (event: string, data: Record<string, unknown>): void {
    if (this.url === null) return
    const url = this.url
    const raw = JSON.stringify({ event, event_version: '1.0', namespace: 'room', timestamp: Date.now(), data })
    const task = (async () => {
      let status = 0
      try {
        const res = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [KALEYRA_SIGNATURE_HEADER]: signatureHeader(this.apiKey, Math.floor(Date.now() / 1000), raw) },
          body: raw,
          headersTimeout: 10_000,
          bodyTimeout: 10_000
        })
        status = res.statusCode
        await res.body.dump()
      } catch {}
      this.deliveries.push({ event, status })
    })()
    this.running.add(task)
    task.finally(() => this.running.delete(task)).catch(() => {})
  }

  /** Resolves when every delivery started has been answered (or failed). */
  async idle (): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running])
  }

  reset (): void {
    this.url = null
    this.deliveries.length = 0
  }
}
