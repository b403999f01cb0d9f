import t from 'tap'
import { CENSOR, censorFields, REDACTED_KEYS } from '../../src/platform/logging.js'
import { captureLogs } from '../helpers/logs.js'

// The net under every log line: credentials and personal data never reach the output, wherever
// the logging code put them within the levels pino's `redact` wildcards used to cover.

t.test('each key is censored at the top, one level down and in headers there; the rest is kept', async t => {
  const { logger, records } = captureLogs('info')
  for (const key of REDACTED_KEYS) {
    logger.info({
      [key]: 'secret-top',
      patient: { [key]: 'secret-nested', id: 'p-1' },
      req: { headers: { [key]: 'secret-header', accept: 'application/json' }, method: 'GET' },
      headers: { [key]: 'secret-headers' }
    }, `line with ${key}`)
  }
  const lines = records()
  t.equal(lines.length, REDACTED_KEYS.size)
  for (const [i, key] of [...REDACTED_KEYS].entries()) {
    t.match(lines[i], {
      [key]: CENSOR,
      patient: { [key]: CENSOR, id: 'p-1' },
      req: { headers: { [key]: CENSOR, accept: 'application/json' }, method: 'GET' },
      headers: { [key]: CENSOR },
      msg: `line with ${key}`
    }, key)
  }
  t.notOk(JSON.stringify(lines).includes('secret-'), 'no secret value in any line')
})

t.test("the caller's objects are never changed; a line without such a key is passed on as it is", async t => {
  const headers = { apikey: 'k-123', accept: '*/*' }
  const fields = { req: { headers }, other: { a: 1 } }
  const censored = censorFields(fields)
  t.same(headers, { apikey: 'k-123', accept: '*/*' }, 'the headers object still has its value')
  t.not(censored, fields)
  t.equal(censored.other, fields.other, 'what needed no change is shared, not copied')
  t.same(censored, { req: { headers: { apikey: CENSOR, accept: '*/*' } }, other: { a: 1 } })

  const clean = { http: { request: { method: 'GET' } }, url: { path: '/x' }, responseTime: 1.5 }
  t.equal(censorFields(clean), clean, 'the same object')
})

t.test('errors stay errors for the serializer, without the secret', async t => {
  const { logger, records } = captureLogs('info')
  const err = Object.assign(new Error('boom'), { code: 'E_X', headers: { authorization: 'Bearer abc' }, email: 'a@b.c' })
  logger.error({ err }, 'failed')
  logger.error(err)
  for (const line of records()) {
    t.match(line, { err: { type: 'Error', message: 'boom', code: 'E_X', headers: { authorization: CENSOR }, email: CENSOR } })
    t.match(String((line.err as { stack: string }).stack), /^Error: boom/)
  }
  t.equal(records().length, 2)
  t.equal(err.email, 'a@b.c', 'the error itself keeps its fields')
  t.notOk(JSON.stringify(records()).includes('abc'), 'no token in the output')
})

t.test("child loggers' bindings are censored at their top level", async t => {
  const { logger, lines } = captureLogs('info')
  logger.child({ email: 'x@y.z', teleconsultationId: 't-1' }).info('bound')
  t.match(JSON.parse(lines[0]) as object, { email: CENSOR, teleconsultationId: 't-1' })
  t.notOk(lines[0].includes('x@y.z'))
})
