// Every call to the CRUD Service and to the identity service carries the request's id and the
// caller's platform headers, as custom-plugin-lib's getHttpClient did; Kaleyra gets none of them.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { IncomingHttpHeaders } from 'node:http'
import t from 'tap'
import { setup, type Tap } from '../helpers/app.js'
import { HOUR, isoFromNow } from '../helpers/fixtures.js'
import { startFakeIdentity } from '../identity/fixtures/fake-identity.js'

interface Outgoing { origin: string, path: string, headers: Record<string, string> }

/** Every request undici sends from this process (the app runs in it), with its headers. */
function recordOutgoing (t: Tap): Outgoing[] {
  const seen: Outgoing[] = []
  const onCreate = (message: unknown): void => {
    const { request } = message as { request: { origin: string | URL, path: string, headers: string | string[] } }
    const headers: Record<string, string> = {}
    if (Array.isArray(request.headers)) {
      for (let i = 0; i < request.headers.length; i += 2) {
        headers[String(request.headers[i]).toLowerCase()] = String(request.headers[i + 1])
      }
    } else {
      for (const line of request.headers.split('\r\n')) {
        const at = line.indexOf(':')
        if (at > 0) headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim()
      }
    }
    seen.push({ origin: new URL(String(request.origin)).origin, path: request.path, headers })
  }
  subscribe('undici:request:create', onCreate)
  t.teardown(() => unsubscribe('undici:request:create', onCreate))
  return seen
}

const PLATFORM_HEADER_NAMES = ['x-request-id', 'miauserid', 'miausergroups', 'client-type', 'isbackoffice', 'miauserproperties', 'x-forwarded-for', 'cookie']

function lower (headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]))
}

t.test('create, patch, get and delete: the CRUD and identity services see the request id and the caller; Kaleyra does not', async t => {
  const identity = await startFakeIdentity()
  t.teardown(() => identity.close())
  identity.users.set('doctor-1', { user_id: 'doctor-1', name: 'Dr. Joe Smith', groups: ['doctor'] })
  identity.users.set('patient-1', { user_id: 'patient-1', name: 'Jane Doe', groups: ['patient'] })
  const { app, crud, emulator } = await setup(t, { store: 'crud', env: { AUTH_SERVICE: identity.host } })
  if (crud === undefined) throw new Error('a CRUD store was asked for')
  const outgoing = recordOutgoing(t)

  const caller = (requestId: string): Record<string, string> => ({
    'x-request-id': requestId,
    miauserid: 'doctor-1',
    miausergroups: 'doctor,admin',
    'client-type': 'backoffice',
    isbackoffice: 'true',
    miauserproperties: '{ "clinic": "north" }',
    'x-forwarded-for': '10.0.0.7',
    cookie: 'sid=secret'
  })
  const expected = (requestId: string) => ({
    'x-request-id': requestId,
    miauserid: 'doctor-1',
    miausergroups: 'doctor,admin',
    'client-type': 'backoffice',
    isbackoffice: '1',
    miauserproperties: '{"clinic":"north"}',
    'x-forwarded-for': '10.0.0.7'
  })

  let id = ''
  const steps: Array<[string, () => Promise<number>, number]> = [
    ['create', async () => {
      const res = await app.inject({ method: 'POST', url: '/teleconsultation', headers: caller('req-create'), payload: { participants: ['doctor-1', 'patient-1'], start_date: isoFromNow(2 * HOUR), duration_in_seconds: 3600 } })
      id = res.json().roomId
      return res.statusCode
    }, 201],
    ['patch', async () => (await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, headers: caller('req-patch'), payload: { participants: ['doctor-1', 'patient-1'], start_date: isoFromNow(3 * HOUR), duration_in_seconds: 1800 } })).statusCode, 204],
    ['get', async () => (await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: caller('req-get') })).statusCode, 200],
    ['delete', async () => (await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}`, headers: caller('req-delete') })).statusCode, 204]
  ]
  for (const [name, run, status] of steps) {
    const crudFrom = crud.requests().length
    const identityFrom = identity.requests.length
    const outgoingFrom = outgoing.length
    t.equal(await run(), status, `${name} answers ${status}`)
    const crudCalls = crud.requests().slice(crudFrom)
    t.ok(crudCalls.length > 0, `${name} calls the CRUD Service`)
    for (const call of crudCalls) t.match(lower(call.headers), expected(`req-${name}`), `${name}: ${call.method} ${call.path} carries the platform headers`)
    t.notOk(crudCalls.some(call => 'cookie' in call.headers), `${name}: no cookie to the CRUD Service (not in ADDITIONAL_HEADERS_TO_PROXY)`)
    for (const call of identity.requests.slice(identityFrom)) {
      t.match(lower(call.headers), { ...expected(`req-${name}`), cookie: 'sid=secret' }, `${name}: identity ${call.path} carries the platform headers and the credentials`)
    }
    const kaleyraCalls = outgoing.slice(outgoingFrom).filter(call => call.origin === new URL(emulator.url).origin)
    if (name === 'create') t.ok(kaleyraCalls.length > 0, 'create calls Kaleyra')
    for (const call of kaleyraCalls) {
      t.same(PLATFORM_HEADER_NAMES.filter(h => h in call.headers), [], `${name}: Kaleyra ${call.path} gets none of the caller's headers`)
    }
  }
  t.ok(identity.requests.length > 0, 'the identity service was asked')
  const created = crud.documents('teleconsultations')[0]
  t.match(created, { creatorId: 'doctor-1', updaterId: 'doctor-1' }, 'the CRUD records who created and changed the document')
})

t.test('the configured header names are the ones forwarded; a request without x-request-id forwards its generated id', async t => {
  const { app, crud, logs } = await setup(t, {
    store: 'crud',
    env: { USERID_HEADER_KEY: 'x-user', GROUPS_HEADER_KEY: 'x-groups', CLIENTTYPE_HEADER_KEY: 'x-client', BACKOFFICE_HEADER_KEY: 'x-bo', USER_PROPERTIES_HEADER_KEY: 'x-props', ADDITIONAL_HEADERS_TO_PROXY: 'x-tenant' }
  })
  if (crud === undefined) throw new Error('a CRUD store was asked for')
  const res = await app.inject({
    method: 'GET',
    url: '/teleconsultation/000000000000000000000000',
    headers: { 'x-user': 'nurse-2', 'x-groups': 'nurse', 'x-client': 'cms', 'x-bo': 'yes', 'x-props': '[1,2]', 'x-tenant': 'clinic', miauserid: 'ignored', 'x-props-other': 'no' }
  })
  t.equal(res.statusCode, 404)
  const [call] = crud.requests()
  const headers = lower(call.headers)
  t.match(headers, { 'x-user': 'nurse-2', 'x-groups': 'nurse', 'x-client': 'cms', 'x-bo': '1', 'x-props': '[1,2]', 'x-tenant': 'clinic' })
  const completed = logs.records().find(r => r.msg === 'request completed')
  t.ok(typeof completed?.reqId === 'string' && completed.reqId !== '', 'the request got an id')
  t.equal(headers['x-request-id'], completed?.reqId, 'the generated request id is the one forwarded, as in the request\'s log lines')
  t.notOk('miauserid' in headers, 'the default names are not used once configured')
  t.notOk('x-props-other' in headers)
  t.notOk('isbackoffice' in headers)

  const unparsable = await app.inject({ method: 'GET', url: '/teleconsultation/000000000000000000000001', headers: { 'x-user': 'nurse-2', 'x-props': '{not json', 'x-bo': '' } })
  t.equal(unparsable.statusCode, 404)
  const last = lower(crud.requests().at(-1)?.headers ?? {})
  t.notOk('x-props' in last, 'user properties that are not JSON are not forwarded (custom-plugin-lib drops them)')
  t.notOk('x-bo' in last, 'an empty backoffice header is not a backoffice request')
})
