import { randomBytes } from 'node:crypto'
import { apiPrefix, listenHost } from './config/env.js'
import type { Env } from './config/index.js'
import { SAMPLE_PARTICIPANTS } from './demo-page/routes.js'
import { startKaleyraEmulator, type KaleyraEmulator } from './emulator/index.js'
import type { Services } from './services.js'

/** Emulator mode: starts the Kaleyra emulator in this process and points the config at it. */
export async function startEmbeddedKaleyra (env: Env): Promise<{ env: Env, emulator: KaleyraEmulator }> {
  const apiKey = env.BANDYER_API_SECRET_KEY ?? `ak_emulator_${randomBytes(12).toString('hex')}`
  // The emulator listens where the service does (loopback unless HOST says otherwise).
  const host = listenHost(env)
  const emulator = await startKaleyraEmulator({
    apiKey,
    host,
    port: env.KALEYRA_EMULATOR_PORT,
    publicUrl: env.KALEYRA_EMULATOR_PUBLIC_URL
  })
  const baseUrl = emulator.url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//127.0.0.1:')
  return { env: { ...env, BANDYER_API_SECRET_KEY: apiKey, BANDYER_BASE_URL: baseUrl }, emulator }
}

/**
 * Once the service listens: the emulator names rooms by teleconsultation id too (through the
 * store) and lets the demo's waiting room frame its call page.
 */
export function connectEmulator (emulator: KaleyraEmulator, services: Pick<Services, 'stores'>, serviceUrl: string, env: Env): void {
  const store = services.stores.teleconsultations
  emulator.useTeleconsultations({
    roomOf: async id => (await store.get(id))?.bandyerRoomId ?? null,
    teleconsultationOf: async roomId => (await store.findByRoomId(roomId))?.id ?? null
  })
  emulator.allowFraming(demoOrigins(serviceUrl, env))
}

/** Where a browser may open the demo: the local address, localhost, and the public host (Docker). */
export function demoOrigins (serviceUrl: string, env: Env): string[] {
  const local = new URL(serviceUrl)
  const origins = new Set([local.origin, `${local.protocol}//localhost:${local.port}`])
  if (env.KALEYRA_EMULATOR_PUBLIC_URL !== undefined) {
    const pub = new URL(env.KALEYRA_EMULATOR_PUBLIC_URL)
    origins.add(`${pub.protocol}//${pub.hostname}:${local.port}`)
  }
  return [...origins]
}

/** What `npm run demo` prints: where things are, and a first teleconsultation to copy and paste. */
export function demoHelp (serviceUrl: string, emulatorUrl: string, env: Env): string {
  const start = new Date(Date.now() - 60_000).toISOString()
  const [doctor, patient] = SAMPLE_PARTICIPANTS
  const body = JSON.stringify({
    participants: {
      number: 2,
      data: [doctor, patient].map(({ userId, groups, fullName }) => ({ userId, groups, fullName, language: 'en' }))
    },
    start_date: start,
    duration_in_seconds: 3600
  })
  // API routes move with SERVICE_PREFIX; the documentation stays at the root.
  const api = serviceUrl + apiPrefix(env)
  const user = env.USERID_HEADER_KEY
  const groups = env.GROUPS_HEADER_KEY
  return [
    '',
    `Teleconsultation service (demo): ${serviceUrl}`,
    `  Waiting room demo:  ${serviceUrl}/demo/  (open it in a browser)`,
    `  Kaleyra emulator:   ${emulatorUrl} (state: ${emulatorUrl}/_emulator/state)`,
    `  API documentation:  ${serviceUrl}/documentation`,
    '',
    'Or with curl: a teleconsultation that has already started, and the doctor\'s link (accessLinkURL):',
    `  ID=$(curl -sS --fail-with-body -X POST ${api}/teleconsultation -H 'content-type: application/json' -d '${body}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).roomId')`,
    `  curl -sS --fail-with-body ${api}/teleconsultation/$ID -H '${user}: ${doctor.userId}' -H '${groups}: ${doctor.groups.join(',')}'`,
    '',
    'Uploads cleanup, SDK credentials, virtual backgrounds, transcriptions and recordings: see the walk-through in docs/api.md.',
    ''
  ].join('\n')
}
