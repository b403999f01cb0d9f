import t from 'tap'
import { EmulatorState, MAX_LOGGED_REQUESTS } from '../../src/emulator/state.js'
import { FaultList } from '../../src/emulator/faults.js'

t.test('the request log keeps the most recent entries only', async t => {
  const state = new EmulatorState()
  const total = Math.ceil(MAX_LOGGED_REQUESTS * 1.1) + 1
  for (let i = 0; i < total; i++) state.logRequest({ method: 'GET', path: `/v2/users/${i}`, query: {}, status: 200 })
  t.ok(state.requestLog.length <= MAX_LOGGED_REQUESTS * 1.1, `bounded (${state.requestLog.length})`)
  t.equal(state.requestLog.at(-1)?.path, `/v2/users/${total - 1}`, 'the newest entry is kept')
  t.equal(state.requestLog[0].path, `/v2/users/${total - state.requestLog.length}`, 'entries stay in order')
})

t.test('fault plans', async t => {
  const faults = new FaultList()
  faults.add({ kind: 'latency', ms: 10 })
  faults.add({ kind: 'latency', ms: 5, phase: 'after', times: 1 })
  faults.add({ method: 'POST', kind: 'reset', phase: 'after', times: 1 })
  t.same(faults.take('POST', '/v2/rooms'), { delayBefore: 10, delayAfter: 5, terminal: { kind: 'reset', status: 500, phase: 'after' } })
  t.same(faults.take('POST', '/v2/rooms'), { delayBefore: 10, delayAfter: 0, terminal: undefined }, 'used-up rules are gone')
  t.equal(faults.size, 1)
  const rule = { kind: 'status' as const, status: 503, times: 1 }
  faults.add(rule)
  rule.status = 400
  t.equal(faults.take('GET', '/v2/users').terminal?.status, 503, 'a rule is copied when added')
})
