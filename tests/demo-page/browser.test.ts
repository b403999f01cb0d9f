// The flow the product exists for, in a real browser: a patient waits in the demo's waiting
// room until the link is given at the start time, then joins the call in an iframe.
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { connectEmulator } from '../../src/demo.js'
import { launchChromium } from '../helpers/browser.js'
import { setup } from '../helpers/app.js'

/** Far enough ahead that the patient's tab is seen waiting even on a loaded machine. */
const STARTS_IN_S = 12
const WAIT_MS = 90_000

t.test('a patient waits in the waiting room, then joins the call in an iframe at the start time', async t => {
  const browser = await launchChromium(t)
  const { app, services, emulator, config } = await setup(t, { env: { KALEYRA_EMULATOR: 'true' } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  connectEmulator(emulator, services, url, config.env)

  const context = await browser.newContext()
  const start = await context.newPage()
  await start.goto(`${url}/demo/`)
  await start.fill('#delay', String(STARTS_IN_S))
  await start.click('button[type="submit"]')
  const link = start.locator('a[data-user="patient-1"]')
  await link.waitFor({ timeout: WAIT_MS })
  t.match(await start.textContent('#status'), /^Teleconsultation \w+ created/)
  const href = new URL(await link.getAttribute('href') ?? '', `${url}/demo/`)
  const id = href.searchParams.get('id') ?? ''
  const startsAt = Date.parse(href.searchParams.get('start') ?? '')

  // What the waiting room was told, poll after poll, and when.
  const answers: Array<{ at: number, link: string | null }> = []
  context.on('response', response => {
    if (new URL(response.url()).pathname !== `/teleconsultation/${id}`) return
    const at = Date.now()
    response.json().then(
      (body: { accessLinkURL: string | null }) => answers.push({ at, link: body.accessLinkURL }),
      () => {}
    )
  })
  const [room] = await Promise.all([context.waitForEvent('page'), link.click()])
  t.equal(new URL(room.url()).pathname, '/demo/waiting-room.html', 'the waiting room opens in its own tab')

  await room.locator('#expected li').nth(1).waitFor({ timeout: WAIT_MS })
  t.same(await room.locator('#expected li').allTextContents(), ['Dr. Joe Smith', 'Jane Doe (you)'], 'who is expected, by full name')
  t.equal(await room.textContent('#title'), 'Waiting room of Jane Doe')
  t.match(await room.textContent('#countdown'), /^(\d+:\d\d|now)$/)

  await room.locator('#call').waitFor({ state: 'visible', timeout: WAIT_MS })
  t.ok(await room.locator('#waiting').isHidden(), 'the waiting card gives way to the call')
  const call = room.frameLocator('#call-frame')
  await call.locator('h1').waitFor({ timeout: WAIT_MS })
  t.match(await call.locator('h1').textContent(), /joined room room_/)
  const rows = await call.locator('dd').allTextContents()
  const dt = await call.locator('dt').allTextContents()
  const field = (name: string): string | undefined => rows[dt.indexOf(name)]
  t.equal(field('Teleconsultation'), id, 'the call page knows the teleconsultation')
  t.equal(field('Role'), 'basic', 'and the patient\'s role')

  t.ok(answers.some(a => a.link === null), 'the patient was told to wait first')
  const firstLink = answers.find(a => a.link !== null)
  t.ok(firstLink !== undefined && firstLink.at >= startsAt, 'the link came at the start time, not before')

  const joins = emulator.joins()
  t.match(joins, [{ teleconsultationId: id, roomId: /^room_/ }], 'the emulator recorded the join')
  const patient = await (await fetch(`${emulator.url}/_emulator/rooms/${id}`)).json() as { joins: unknown[], teleconsultationId: string }
  t.equal(patient.teleconsultationId, id)
  t.equal(patient.joins.length, 1, 'and lists it under the teleconsultation')
})

t.test('a waiting room the service refuses says why and stops asking', async t => {
  const browser = await launchChromium(t)
  const { app, services, emulator, config } = await setup(t, { env: { KALEYRA_EMULATOR: 'true' } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  connectEmulator(emulator, services, url, config.env)
  const created = await app.inject({
    method: 'POST',
    url: '/teleconsultation',
    payload: {
      participants: { number: 2, data: [{ userId: 'doctor-1', groups: ['doctor'], fullName: 'Dr. Joe Smith' }, { userId: 'patient-1', groups: ['patient'], fullName: 'Jane Doe' }] },
      start_date: new Date().toISOString(),
      duration_in_seconds: 1800
    }
  })
  const { roomId } = created.json() as { roomId: string }

  const page = await browser.newPage()
  let polls = 0
  page.on('request', request => { if (new URL(request.url()).pathname === `/teleconsultation/${roomId}`) polls++ })
  // John Roe is a sample participant, but not one of this teleconsultation.
  await page.goto(`${url}/demo/waiting-room.html?id=${roomId}&user=patient-2`)
  await page.locator('#status.error').waitFor({ timeout: WAIT_MS })
  t.equal(await page.textContent('#status'), '401: Unauthorized user. Not retrying.')
  t.ok(await page.locator('#call').isHidden(), 'no call')
  const seen = polls
  // Long enough for two more polls, had it kept polling.
  await page.waitForTimeout(5_000)
  t.equal(polls, seen, 'no further polls')
  t.equal(seen, 1)
  t.same(emulator.joins(), [])
})
