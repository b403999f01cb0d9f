import t from 'tap'
import { kaleyraUserIdFor } from '../../src/users/kaleyra-users.js'
import { DETAILS_TTL_MS } from '../../src/teleconsultations/view.js'
import { eachStore, setup } from '../helpers/app.js'
import { as, body, doctor, HOUR, isoFromNow, patient } from '../helpers/fixtures.js'

async function create (app: Awaited<ReturnType<typeof setup>>['app'], payload: Record<string, unknown>): Promise<string> {
  return (await app.inject({ method: 'POST', url: '/teleconsultation', payload })).json().roomId
}

eachStore(t, 'a started teleconsultation answers the caller\'s own link and the participants', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const id = await create(app, body())
  const res = await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('doctor-1') })
  t.equal(res.statusCode, 200)
  const view = res.json()
  const room = emulator.liveRooms()[0]
  const mine = room.participants.find(p => p.userId === kaleyraUserIdFor('doctor-1'))
  t.equal(view.bandyerUserId, kaleyraUserIdFor('doctor-1'))
  t.equal(view.accessLinkURL, mine?.link)
  t.same(view.participantsBandyerCall, [
    { bandyerUserId: kaleyraUserIdFor('doctor-1'), fullName: 'Dr doctor-1' },
    { bandyerUserId: kaleyraUserIdFor('patient-1'), fullName: 'Patient patient-1' }
  ])
  t.match(view.details, { recording: 'none', recordingStatus: 'stopped', status: 'NOT_RUNNING', disabled: false, live: true, durationUsedInSeconds: 0 })
  t.equal(view.details.description, null, 'the service\'s own marker is not shown as a description')
  t.type(view.details.creationDate, 'string')
})

eachStore(t, 'before the start the link is withheld (the frontend polls)', async (t, store) => {
  const { app } = await setup(t, { store })
  const id = await create(app, body({ start: isoFromNow(HOUR) }))
  const res = await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('patient-1') })
  t.equal(res.statusCode, 200)
  t.equal(res.json().accessLinkURL, null)
  t.ok(res.json().details, 'room details are there already')
})

eachStore(t, 'inside IMMUTABLE_PERIOD_MS the link is given', async (t, store) => {
  const { app } = await setup(t, { store, env: { IMMUTABLE_PERIOD_MS: String(HOUR) } })
  const id = await create(app, body({ start: isoFromNow(30 * 60_000) }))
  const res = await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('patient-1') })
  t.type(res.json().accessLinkURL, 'string')
})

eachStore(t, 'without a room there is no link and no details', async (t, store) => {
  const { app } = await setup(t, { store })
  const id = await create(app, body({ participants: [doctor()], number: 2 }))
  const res = await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('doctor-1') })
  t.equal(res.statusCode, 200)
  t.equal(res.json().accessLinkURL, null)
  t.notOk('details' in res.json())
})

eachStore(t, 'strangers and anonymous callers are refused', async (t, store) => {
  const { app } = await setup(t, { store })
  const id = await create(app, body())
  const stranger = await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('someone-else') })
  t.equal(stranger.statusCode, 401)
  t.same(stranger.json(), { error: 'Unauthorized user' })
  const anonymous = await app.inject({ method: 'GET', url: `/teleconsultation/${id}` })
  t.equal(anonymous.statusCode, 401)
  t.same(anonymous.json(), { error: 'Unauthorized user' })
})

eachStore(t, 'an unknown id is 404 with the documented message', async (t, store) => {
  const { app } = await setup(t, { store })
  const res = await app.inject({ method: 'GET', url: '/teleconsultation/0123456789abcdef01234567', headers: as('doctor-1') })
  t.equal(res.statusCode, 404)
  t.same(res.json(), { error: 'Room with id 0123456789abcdef01234567 not found on CRUD' })
})

eachStore(t, 'language and background options are added to the link', async (t, store) => {
  const { app } = await setup(t, { store })
  const id = await create(app, body())
  const withOptions = await app.inject({ method: 'GET', url: `/teleconsultation/${id}?useBackground=true&language=it`, headers: as('doctor-1') })
  const link = new URL(withOptions.json().accessLinkURL)
  t.equal(link.searchParams.get('language'), 'it')
  t.equal(link.searchParams.get('virtual_background'), 'image')

  const other = await app.inject({ method: 'GET', url: `/teleconsultation/${id}?language=fr&useBackground=false`, headers: as('doctor-1') })
  const plain = new URL(other.json().accessLinkURL)
  t.equal(plain.searchParams.get('language'), null, 'unsupported languages fall back to the company default')
  t.equal(plain.searchParams.get('virtual_background'), null)
})

eachStore(t, 'groups in groupsWithBackgroundList get the background without asking', async (t, store) => {
  const { app } = await setup(t, {
    store,
    serviceConfig: { privileges: { plus: { groups: ['doctor'] }, basic: { groups: ['patient'] } }, groupsWithBackgroundList: ['doctor'] }
  })
  const id = await create(app, body())
  const doc = await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('doctor-1') })
  t.equal(new URL(doc.json().accessLinkURL).searchParams.get('virtual_background'), 'image')
  const pat = await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('patient-1') })
  t.equal(new URL(pat.json().accessLinkURL).searchParams.get('virtual_background'), null)
})

eachStore(t, 'the caller id can come from a JSON user-properties header', async (t, store) => {
  const { app } = await setup(t, {
    store,
    serviceConfig: {
      privileges: { plus: { groups: ['doctor'] }, basic: { groups: ['patient'] } },
      userIdPathInRequest: [
        { from: 'object', extract: 'headers' },
        { from: 'object', extract: 'miauserproperties' },
        { from: 'json', extract: 'customUserId' }
      ]
    }
  })
  const id = await create(app, body())
  const ok = await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: { miauserproperties: JSON.stringify({ customUserId: 'patient-1' }) } })
  t.equal(ok.statusCode, 200)
  const broken = await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: { miauserproperties: '{not json' } })
  t.equal(broken.statusCode, 401)
})

eachStore(t, 'a custom user-id header name is honoured', async (t, store) => {
  const { app } = await setup(t, { store, env: { USERID_HEADER_KEY: 'X-User-Id' } })
  const id = await create(app, body({ participants: [doctor(), patient()] }))
  const res = await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: { 'x-user-id': 'patient-1' } })
  t.equal(res.statusCode, 200)
})

eachStore(t, 'room details are best effort: Kaleyra failing does not hide the link', async (t, store) => {
  const { app, emulator, logs } = await setup(t, { store })
  const id = await create(app, body())
  emulator.faults.add({ method: 'GET', path: '/v2/rooms', kind: 'status', status: 503 })
  const res = await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('doctor-1') })
  t.equal(res.statusCode, 200)
  t.type(res.json().accessLinkURL, 'string')
  t.notOk('details' in res.json())
  t.ok(logs.records().some(r => r.msg === 'room details unavailable'))
})

eachStore(t, 'polling participants share one Kaleyra room read for a couple of seconds', async (t, store) => {
  // The service's clock stands still unless the test moves it: however slow the machine, the
  // polls below happen "at once", then exactly as late as the test says.
  let clock = Date.now()
  const { app, emulator } = await setup(t, { store, overrides: { now: () => clock } })
  const id = await create(app, body())
  const roomReads = (): number => emulator.requests().filter(r => r.method === 'GET' && r.path.startsWith('/v2/rooms/')).length
  const poll = async (user: string) => await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as(user) })
  const polls = await Promise.all(['doctor-1', 'patient-1', 'doctor-1', 'patient-1'].map(poll))
  t.ok(polls.every(p => p.statusCode === 200 && p.json().details !== undefined), 'every poll gets the details')
  t.equal(roomReads(), 1, 'one read for four polls')

  clock += DETAILS_TTL_MS - 1
  t.ok((await poll('doctor-1')).json().details !== undefined)
  t.equal(roomReads(), 1, `a poll up to ${DETAILS_TTL_MS} ms later reuses that read`)
  clock += 1
  t.ok((await poll('doctor-1')).json().details !== undefined)
  t.equal(roomReads(), 2, 'then Kaleyra is read again')
})
