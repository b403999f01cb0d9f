// The demo's start page: pick sample participants, create a teleconsultation starting in N
// seconds, then open each participant's waiting room (its own tab).
const config = await (await fetch('config.json', { cache: 'no-store' })).json()
const form = document.querySelector('#create')
const status = document.querySelector('#status')
const rooms = document.querySelector('#rooms')

const boxes = document.querySelector('#participants')
for (const p of config.participants) {
  const label = document.createElement('label')
  const box = Object.assign(document.createElement('input'), { type: 'checkbox', name: 'participant', value: p.userId, checked: p.selected })
  label.append(box, ` ${p.fullName} (${p.groups.join(', ')})`)
  boxes.append(label)
}

function say (text, isError = false) {
  status.textContent = text
  status.className = isError ? 'error' : ''
}

form.addEventListener('submit', async event => {
  event.preventDefault()
  const chosen = config.participants.filter(p => form.querySelector(`input[value="${p.userId}"]`).checked)
  const start = new Date(Date.now() + Number(form.delay.value) * 1000).toISOString()
  const body = {
    participants: { number: chosen.length, data: chosen.map(({ userId, groups, fullName }) => ({ userId, groups, fullName, language: 'en' })) },
    start_date: start,
    duration_in_seconds: 1800
  }
  say('Creating…')
  rooms.replaceChildren()
  let res
  try {
    res = await fetch(`${config.apiBase}/teleconsultation`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  } catch {
    return say('The service cannot be reached.', true)
  }
  const answer = await res.json().catch(() => ({}))
  if (!res.ok) return say(`Refused (${res.status}): ${answer.error ?? answer.message ?? res.statusText}`, true)

  say(`Teleconsultation ${answer.roomId} created; it starts at ${new Date(start).toLocaleTimeString()}. Open the waiting rooms:`)
  for (const p of chosen) {
    const query = new URLSearchParams({ id: answer.roomId, user: p.userId, start })
    const link = Object.assign(document.createElement('a'), { href: `waiting-room.html?${query}`, target: '_blank', textContent: `${p.fullName}'s waiting room` })
    link.dataset.user = p.userId
    const item = document.createElement('li')
    item.append(link)
    rooms.append(item)
  }
})
