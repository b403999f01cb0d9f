import { createServer } from 'node:net'
import t from 'tap'
import { loadEnv } from '../src/config/env.js'
import { demoHelp, startEmbeddedKaleyra } from '../src/demo.js'

t.test('the demo help points the API examples at the prefixed routes, the documentation at the root', async t => {
  const plain = demoHelp('http://127.0.0.1:3000', 'http://127.0.0.1:4000', loadEnv({ KALEYRA_EMULATOR: 'true' }))
  t.match(plain, 'curl -s -X POST http://127.0.0.1:3000/teleconsultation ')
  const prefixed = demoHelp('http://127.0.0.1:3000', 'http://127.0.0.1:4000', loadEnv({ KALEYRA_EMULATOR: 'true', SERVICE_PREFIX: '/telecons-be/' }))
  t.match(prefixed, 'curl -s -X POST http://127.0.0.1:3000/telecons-be/teleconsultation ')
  t.match(prefixed, 'curl -s http://127.0.0.1:3000/telecons-be/teleconsultation/<roomId>')
  t.match(prefixed, 'API documentation:  http://127.0.0.1:3000/documentation')
  t.match(prefixed, "-H 'miauserid: doctor-1'")
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
