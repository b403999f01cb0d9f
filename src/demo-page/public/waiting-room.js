// A participant's waiting room, as the real frontend does it: polls GET /teleconsultation/:id
// with the participant's identity headers, shows who is expected and a countdown, and embeds
// the call once accessLinkURL is given. Errors slow the polling down (Retry-After when given);
// those that will not go away (not a participant, unknown teleconsultation) stop it.
const POLL_MS = 2000
const MAX_BACKOFF_MS = 30_000

const params = new URLSearchParams(window.location.search)
const id = params.get('id') ?? ''
const userId = params.get('user') ?? ''
const start = params.has('start') ? new Date(params.get('start')) : null

const config = await (await fetch('config.json', { cache: 'no-store' })).json()
const me = config.participants.find(p => p.userId === userId)
const headers = { [config.userHeader]: userId, [config.groupsHeader]: (me?.groups ?? []).join(',') }
const status = document.querySelector('#status')

document.querySelector('#title').textContent = `Waiting room of ${me?.fullName ?? userId}`
document.title = `${me?.fullName ?? userId} – waiting room`

function say (text, isError = false) {
  status.textContent = text
  status.className = isError ? 'error' : ''
}

const countdown = document.querySelector('#countdown')
function tick () {
  if (start === null || Number.isNaN(start.getTime())) return
  const left = Math.max(0, Math.ceil((start.getTime() - Date.now()) / 1000))
  countdown.textContent = left > 0 ? `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}` : 'now'
}
tick()
const ticking = setInterval(tick, 250)

function showExpected (view) {
  const items = view.participantsBandyerCall.map(p => {
    const item = document.createElement('li')
    item.textContent = (p.fullName ?? p.bandyerUserId) + (p.bandyerUserId === view.bandyerUserId ? ' (you)' : '')
    return item
  })
  document.querySelector('#expected').replaceChildren(...items)
}

function join (link) {
  clearInterval(ticking)
  document.querySelector('#waiting').hidden = true
  document.querySelector('#call').hidden = false
  document.querySelector('#call-frame').src = link
  say('In the call.')
}

let backoff = POLL_MS
async function poll () {
  let res
  try {
    res = await fetch(`${config.apiBase}/teleconsultation/${encodeURIComponent(id)}`, { headers, cache: 'no-store' })
  } catch {
    return retry('The service cannot be reached', null)
  }
  const body = await res.json().catch(() => ({}))
  if (res.ok) {
    backoff = POLL_MS
    showExpected(body)
    if (body.accessLinkURL !== null) return join(body.accessLinkURL)
    say('Waiting for the call to open…')
    return setTimeout(poll, POLL_MS)
  }
  const message = `${res.status}: ${body.error ?? body.message ?? res.statusText}`
  // Asking again changes nothing for these.
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) return say(`${message}. Not retrying.`, true)
  retry(message, res.headers.get('retry-after'))
}

function retry (message, retryAfter) {
  const seconds = Number(retryAfter)
  backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
  const wait = retryAfter !== null && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : backoff
  say(`${message}. Trying again in ${Math.round(wait / 1000)} s.`, true)
  setTimeout(poll, wait)
}

poll()
