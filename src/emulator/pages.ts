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
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}dt{font-weight:bold}img{max-width:100%}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`
}

function html (reply: FastifyReply, status: number, content: string): string {
  reply.code(status).type('text/html; charset=utf-8')
  return content
}

export function registerPages (app: FastifyInstance, state: EmulatorState): void {
  app.get<{ Params: { token: string } }>('/join/:token', async (request, reply) => {
    const target = state.links.get(request.params.token)
    const room = target === undefined ? undefined : state.liveRoom(target.roomId)
    if (target === undefined || room === undefined) {
      return html(reply, 404, page('This room no longer exists', '<p>The link is unknown or its room was deleted.</p>'))
    }
    const query = queryOf(request.url)
    const participant = room.participants.find(p => p.userId === target.userId)
    const tools = Object.entries(participant?.tools ?? {}).filter(([, on]) => on).map(([name]) => name)
    const rows: Array<[string, string]> = [
      ['Room', room.roomId],
      ['User', target.userId],
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
