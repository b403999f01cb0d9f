import { createServer } from 'node:net'
import t from 'tap'
import { listenHost, loadEnv } from '../src/config/env.js'
import { demoHelp, demoOrigins, startEmbeddedKaleyra } from '../src/demo.js'

t.test('the demo help points the API examples at the prefixed routes, the documentation and the waiting room at the root', async t => {
  const plain = demoHelp('http://127.0.0.1:3000', 'http://127.0.0.1:4000', loadEnv({ KALEYRA_EMULATOR: 'true' }))
  t.match(plain, 'curl -sS --fail-with-body -X POST http://127.0.0.1:3000/teleconsultation ')
  t.match(plain, 'Waiting room demo:  http://127.0.0.1:3000/demo/')
  const prefixed = demoHelp('http://127.0.0.1:3000', 'http://127.0.0.1:4000', loadEnv({ KALEYRA_EMULATOR: 'true', SERVICE_PREFIX: '/telecons-be/' }))
  t.match(prefixed, 'curl -sS --fail-with-body -X POST http://127.0.0.1:3000/telecons-be/teleconsultation ')
  t.match(prefixed, 'curl -sS --fail-with-body http://127.0.0.1:3000/telecons-be/teleconsultation/$ID')
  t.notMatch(prefixed, '<roomId>', 'nothing to replace by hand')
  t.match(prefixed, 'API documentation:  http://127.0.0.1:3000/documentation')
  t.match(prefixed, 'Waiting room demo:  http://127.0.0.1:3000/demo/')
  t.match(prefixed, "-H 'miauserid: doctor-1'")
})

t.test('the call page may be framed by the demo as a browser reaches it', async t => {
  t.same(demoOrigins('http://127.0.0.1:3000', loadEnv({ KALEYRA_EMULATOR: 'true' })), ['http://127.0.0.1:3000', 'http://localhost:3000'])
  const docker = loadEnv({ KALEYRA_EMULATOR: 'true', HOST: '0.0.0.0', KALEYRA_EMULATOR_PUBLIC_URL: 'http://demo.example:4000' })
  t.same(demoOrigins('http://127.0.0.1:3000', docker), ['http://127.0.0.1:3000', 'http://localhost:3000', 'http://demo.example:3000'])
})

/** A port nothing listens on right now (the system's choice, released at once). */
async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

t.test('the embedded emulator listens on KALEYRA_EMULATOR_PORT, or on any free port by default', async t => {
  const port = await freePort()
  const fixed = await startEmbeddedKaleyra(loadEnv({ KALEYRA_EMULATOR: 'true', KALEYRA_EMULATOR_PORT: String(port) }))
  t.teardown(() => fixed.emulator.close())
  t.equal(fixed.emulator.url, `http://127.0.0.1:${port}`)
  t.equal(fixed.env.BANDYER_BASE_URL, fixed.emulator.url)

  const any = await startEmbeddedKaleyra(loadEnv({ KALEYRA_EMULATOR: 'true' }))
  t.teardown(() => any.emulator.close())
  t.match(any.emulator.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  t.not(any.emulator.url, fixed.emulator.url)
  t.throws(() => loadEnv({ KALEYRA_EMULATOR: 'true', KALEYRA_EMULATOR_PORT: '70000' }), /KALEYRA_EMULATOR_PORT must be <= 65535/)
})

t.test('the demo listens on loopback unless HOST says otherwise; production keeps every interface', async t => {
  t.equal(listenHost(loadEnv({ KALEYRA_EMULATOR: 'true' })), '127.0.0.1')
  t.equal(listenHost(loadEnv({ KALEYRA_EMULATOR: 'true', HOST: '0.0.0.0' })), '0.0.0.0')
  t.equal(listenHost(loadEnv({ BANDYER_API_SECRET_KEY: 'k', BANDYER_BASE_URL: 'https://api.sandbox.eu.bandyer.com' })), '0.0.0.0')
  const { env, emulator } = await startEmbeddedKaleyra(loadEnv({ KALEYRA_EMULATOR: 'true' }))
  t.teardown(() => emulator.close())
  t.match(emulator.url, /^http:\/\/127\.0\.0\.1:/, 'the emulator too')
  t.match(env.BANDYER_BASE_URL, /^http:\/\/127\.0\.0\.1:/)
})

t.test('KALEYRA_EMULATOR_PUBLIC_URL is the origin of the links the emulator hands out', async t => {
  const { env, emulator } = await startEmbeddedKaleyra(loadEnv({ KALEYRA_EMULATOR: 'true', KALEYRA_EMULATOR_PUBLIC_URL: 'http://localhost:4000/' }))
  t.teardown(() => emulator.close())
  const auth = { apikey: env.BANDYER_API_SECRET_KEY ?? '', 'content-type': 'application/json' }
  for (const [id, role] of [['u1', 'plus'], ['u2', 'basic']]) {
    const user = await fetch(`${env.BANDYER_BASE_URL}/v2/users`, { method: 'POST', headers: auth, body: JSON.stringify({ id, role }) })
    t.ok(user.ok, 'user created')
  }
  const room = await fetch(`${env.BANDYER_BASE_URL}/v2/rooms`, { method: 'POST', headers: auth, body: JSON.stringify({ participants: [{ user_id: 'u1', is_admin: true }, { user_id: 'u2', is_admin: false }] }) })
  const body = await room.json() as { participants?: Array<{ link?: string }> }
  t.match(body.participants?.[0]?.link, /^http:\/\/localhost:4000\/join\//)
})
