// What a participant's link opens (a stand-in for Kaleyra's call page) and the background images.
import type { FastifyInstance, FastifyReply } from 'fastify'
import { queryOf } from './http.js'
import type { EmulatorState } from './state.js'

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, c => ENTITIES[c])
}

function page (title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}h1{font-size:1.4rem;overflow-wrap:anywhere}dt{font-weight:bold}dd{margin:0 0 .4rem 1.5rem;overflow-wrap:anywhere}img{max-width:100%}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`
}

/** Framing: refused unless the demo allowed its origin (its waiting room embeds the call page). */
function frameHeaders (reply: FastifyReply, allowed: string[]): void {
  if (allowed.length === 0) {
    reply.header('content-security-policy', "frame-ancestors 'none'").header('x-frame-options', 'DENY')
  } else {
    reply.header('content-security-policy', `frame-ancestors ${allowed.join(' ')}`)
  }
}

function html (reply: FastifyReply, status: number, content: string): string {
  reply.code(status).type('text/html; charset=utf-8')
  return content
}

export function registerPages (app: FastifyInstance, state: EmulatorState): void {
  // Opening the page is what joining the call is here: it is recorded (state.joins).
  app.get<{ Params: { token: string } }>('/join/:token', async (request, reply) => {
    frameHeaders(reply, state.frameAncestors)
    const target = state.links.get(request.params.token)
    const room = target === undefined ? undefined : state.liveRoom(target.roomId)
    if (target === undefined || room === undefined) {
      return html(reply, 404, page('This room no longer exists', '<p>The link is unknown or its room was deleted.</p>'))
    }
    const query = queryOf(request.url)
    const participant = room.participants.find(p => p.userId === target.userId)
    const teleconsultationId = await state.teleconsultationOf(room.roomId)
    state.noteJoin({ roomId: room.roomId, userId: target.userId, teleconsultationId, at: new Date().toISOString() })
    const tools = Object.entries(participant?.tools ?? {}).filter(([, on]) => on).map(([name]) => name)
    const role = state.users.get(target.userId)?.role ?? 'unknown'
    const rows: Array<[string, string]> = [
      ...(teleconsultationId !== null ? [['Teleconsultation', teleconsultationId] as [string, string]] : []),
      ['Room', room.roomId],
      ['User', target.userId],
      ['Role', role],
      ['Admin', participant?.isAdmin === true ? 'yes' : 'no'],
      ['Tools', tools.length > 0 ? tools.join(', ') : 'none'],
      ['Recording', room.recording]
    ]
    if (query.language !== undefined) rows.push(['Language', query.language])
    if (query.virtual_background !== undefined) rows.push(['Virtual background', query.virtual_background])
    const list = rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('\n')
    const alias = state.company.defaultBackground
    const image = query.virtual_background === 'image' && alias !== null
      ? `<p><img alt="virtual background" src="/backgrounds/${escapeHtml(alias)}.jpg"></p>`
      : ''
    const title = `${target.userId} joined room ${room.roomId}`
    return html(reply, 200, page(title, `<p>Emulated Kaleyra Video call.</p>\n<dl>\n${list}\n</dl>\n${image}`))
  })

  app.get<{ Params: { file: string } }>('/backgrounds/:file', async (request, reply) => {
    const match = /^([0-9a-f]{32})\.jpg$/.exec(request.params.file)
    const bg = match === null ? undefined : state.backgrounds.get(match[1])
    if (bg === undefined) {
      reply.code(404)
      return { error: 'not_found', message: 'background not found' }
    }
    reply.type('image/jpeg')
    return bg.bytes
  })
}
