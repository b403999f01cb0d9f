// TRUST_PROXY decides whether X-Forwarded-For is believed for the client address (request.ip and
// the request log's host.ip); unset, TRUSTED_PROXIES as custom-plugin-lib gave it to Fastify.
import t from 'tap'
import { composeApp } from '../../src/app.js'
import { loadConfig } from '../../src/config/index.js'
import { startEmulator, type Tap } from '../helpers/app.js'
import { captureLogs } from '../helpers/logs.js'

/** The client address the service believes, and the one its request log shows, for a request from `remoteAddress`. */
async function addresses (
  t: Tap,
  env: Record<string, string>,
  remoteAddress: string,
  forwardedFor?: string
): Promise<{ ip: string; logged: unknown }> {
  const emulator = await startEmulator(t)
  const logs = captureLogs('info')
  const { app } = await composeApp(
    loadConfig({ BANDYER_BASE_URL: emulator.url, BANDYER_API_SECRET_KEY: emulator.apiKey, ...env }),
    { loggerInstance: logs.logger }
  )
  t.teardown(() => app.close())
  app.get('/client-address', async request => ({ ip: request.ip }))
  const res = await app.inject({ method: 'GET', url: '/client-address', remoteAddress, headers: forwardedFor !== undefined ? { 'x-forwarded-for': forwardedFor } : {} })
  const line = logs.records().find(r => r.msg === 'request completed') as { host?: { ip?: unknown } } | undefined
  return { ip: res.json().ip, logged: line?.host?.ip }
}

t.test('TRUST_PROXY values', async t => {
  const cases: Array<{
    env: Record<string, string>
    from: string
    xff?: string
    ip: string
    logged?: string
    name: string
  }> = [
    {
      name: 'unset: nothing believed; the log shows X-Forwarded-For as sent (as lc39)',
      env: {},
      from: '10.0.0.1',
      xff: '203.0.113.7',
      ip: '10.0.0.1',
      logged: '203.0.113.7'
    },
    {
      name: 'false: the socket address',
      env: { TRUST_PROXY: 'false' },
      from: '10.0.0.1',
      xff: '203.0.113.7',
      ip: '10.0.0.1',
      logged: '10.0.0.1'
    },
    {
      name: 'true: the first address of X-Forwarded-For',
      env: { TRUST_PROXY: 'true' },
      from: '10.0.0.1',
      xff: '198.51.100.1, 203.0.113.7',
      ip: '198.51.100.1'
    },
    {
      name: '1 hop: the address the one trusted proxy saw',
      env: { TRUST_PROXY: '1' },
      from: '10.0.0.1',
      xff: '198.51.100.1, 203.0.113.7',
      ip: '203.0.113.7'
    },
    {
      name: 'a CIDR, from inside it: the address before the proxy',
      env: { TRUST_PROXY: '10.0.0.0/8' },
      from: '10.0.0.1',
      xff: '198.51.100.1, 203.0.113.7',
      ip: '203.0.113.7'
    },
    {
      name: 'a CIDR, from outside it: a forged header is not believed',
      env: { TRUST_PROXY: '10.0.0.0/8' },
      from: '192.0.2.9',
      xff: '198.51.100.1',
      ip: '192.0.2.9',
      logged: '192.0.2.9'
    },
    {
      name: "TRUSTED_PROXIES, TRUST_PROXY unset: the platform's list",
      env: { TRUSTED_PROXIES: '10.0.0.0/8,172.16.0.0/12' },
      from: '10.0.0.1',
      xff: '203.0.113.7',
      ip: '203.0.113.7'
    },
    {
      name: 'TRUST_PROXY wins over TRUSTED_PROXIES',
      env: { TRUSTED_PROXIES: '10.0.0.0/8', TRUST_PROXY: 'false' },
      from: '10.0.0.1',
      xff: '203.0.113.7',
      ip: '10.0.0.1'
    }
  ]
  for (const c of cases) {
    const seen = await addresses(t, c.env, c.from, c.xff)
    t.equal(seen.ip, c.ip, `${c.name}: request.ip ${c.ip}`)
    t.equal(seen.logged, c.logged ?? c.ip, `${c.name}: logged ${c.logged ?? c.ip}`)
  }
})

t.test('a TRUST_PROXY that is not one of those refuses to start, naming it', async t => {
  const base = { KALEYRA_EMULATOR: 'true' }
  for (const value of ['yes', '10.0.0.0/33', '10.0.0.1,proxy.local']) {
    t.throws(() => loadConfig({ ...base, TRUST_PROXY: value }), { name: 'ConfigError', message: /^TRUST_PROXY must be true, false, a number of hops/ }, value)
  }
  t.throws(() => loadConfig({ ...base, TRUSTED_PROXIES: 'true' }), { name: 'ConfigError', message: /^TRUSTED_PROXIES must be a comma list/ })
  t.ok(loadConfig({ ...base, TRUST_PROXY: 'loopback, 10.0.0.0/8, ::1, fd00::/8' }), 'names, CIDRs and IPv6 are accepted')
})
