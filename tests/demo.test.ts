import t from 'tap'
import { loadEnv } from '../src/config/env.js'
import { demoHelp } from '../src/demo.js'

t.test('the demo help points the API examples at the prefixed routes, the documentation at the root', async t => {
  const plain = demoHelp('http://127.0.0.1:3000', 'http://127.0.0.1:4000', loadEnv({ KALEYRA_EMULATOR: 'true' }))
  t.match(plain, 'curl -s -X POST http://127.0.0.1:3000/teleconsultation ')
  const prefixed = demoHelp('http://127.0.0.1:3000', 'http://127.0.0.1:4000', loadEnv({ KALEYRA_EMULATOR: 'true', SERVICE_PREFIX: '/telecons-be/' }))
  t.match(prefixed, 'curl -s -X POST http://127.0.0.1:3000/telecons-be/teleconsultation ')
  t.match(prefixed, 'curl -s http://127.0.0.1:3000/telecons-be/teleconsultation/<roomId>')
  t.match(prefixed, 'API documentation:  http://127.0.0.1:3000/documentation')
  t.match(prefixed, "-H 'miauserid: doctor-1'")
})
