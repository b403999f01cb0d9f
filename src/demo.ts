import { randomBytes } from 'node:crypto'
import { apiPrefix, listenHost } from './config/env.js'
import type { Env } from './config/index.js'
import { startKaleyraEmulator, type KaleyraEmulator } from './emulator/index.js'

/** Emulator mode: starts the Kaleyra emulator in this process and points the config at it. */
export async function startEmbeddedKaleyra (env: Env): Promise<{ env: Env, emulator: KaleyraEmulator }> {
  const apiKey = env.BANDYER_API_SECRET_KEY ?? `ak_emulator_${randomBytes(12).toString('hex')}`
  // The emulator listens where the service does (loopback unless HOST says otherwise).
  const host = listenHost(env)
  const emulator = await startKaleyraEmulator({ apiKey, host, port: env.KALEYRA_EMULATOR_PORT, publicUrl: env.KALEYRA_EMULATOR_PUBLIC_URL })
  const baseUrl = emulator.url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//127.0.0.1:')
  return { env: { ...env, BANDYER_API_SECRET_KEY: apiKey, BANDYER_BASE_URL: baseUrl }, emulator }
}

/** What `npm run demo` prints: where things are, and a first teleconsultation to copy and paste. */
export function demoHelp (serviceUrl: string, emulatorUrl: string, env: Env): string {
  const start = new Date(Date.now() - 60_000).toISOString()
  const body = JSON.stringify({
    participants: {
      number: 2,
      data: [
        { userId: 'doctor-1', groups: ['doctor'], fullName: 'Dr. Joe Smith', language: 'en' },
        { userId: 'patient-1', groups: ['patient'], fullName: 'Jane Doe', language: 'en' }
      ]
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
    `  Kaleyra emulator:   ${emulatorUrl} (state: ${emulatorUrl}/_emulator/state)`,
    `  API documentation:  ${serviceUrl}/documentation`,
    '',
    'Create a teleconsultation that has already started:',
    `  curl -s -X POST ${api}/teleconsultation -H 'content-type: application/json' -d '${body}'`,
    '',
    'Then fetch the doctor\'s link (replace <roomId> with the id printed above) and open accessLinkURL:',
    `  curl -s ${api}/teleconsultation/<roomId> -H '${user}: doctor-1' -H '${groups}: doctor'`,
    '',
    'Uploads cleanup, SDK credentials, virtual backgrounds, transcriptions and recordings: see the walk-through in docs/api.md.',
    ''
  ].join('\n')
}
