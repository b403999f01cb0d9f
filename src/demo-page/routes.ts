// The demo's waiting room (`/demo/`, KALEYRA_EMULATOR=true only): static files, no build step,
// and the few facts the page needs (API prefix, identity headers, sample participants).
import { readFile } from 'node:fs/promises'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { apiPrefix } from '../config/env.js'
import type { Env } from '../config/index.js'

export interface SampleParticipant { userId: string, groups: string[], fullName: string, selected: boolean }

/** The people of the demo (the doctor's group is plus in the default service configuration). */
export const SAMPLE_PARTICIPANTS: SampleParticipant[] = [
  { userId: 'doctor-1', groups: ['doctor'], fullName: 'Dr. Joe Smith', selected: true },
  { userId: 'patient-1', groups: ['patient'], fullName: 'Jane Doe', selected: true },
  { userId: 'patient-2', groups: ['patient'], fullName: 'John Roe', selected: false }
]

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'waiting-room.html': 'text/html; charset=utf-8',
  'demo.css': 'text/css; charset=utf-8',
  'demo.js': 'text/javascript; charset=utf-8',
  'waiting-room.js': 'text/javascript; charset=utf-8'
}

// Beside this module in src/ and, copied by `npm run build`, in dist/.
const PUBLIC_DIR = new URL('./public/', import.meta.url)

export const demoPageRoutes: FastifyPluginAsync<{ env: Env }> = async (app, { env }) => {
  const files = new Map<string, Buffer>()
  for (const name of Object.keys(FILES)) files.set(name, await readFile(new URL(name, PUBLIC_DIR)))
  const config = {
    apiBase: apiPrefix(env),
    userHeader: env.USERID_HEADER_KEY,
    groupsHeader: env.GROUPS_HEADER_KEY,
    participants: SAMPLE_PARTICIPANTS
  }
  const hide = { schema: { hide: true } }

  app.get('/demo', hide, async (_request, reply) => await reply.redirect('/demo/'))
  app.get('/demo/config.json', hide, async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    return config
  })
  const serve = async (name: string, reply: FastifyReply): Promise<FastifyReply> => {
    const type = FILES[name]
    const body = type === undefined ? undefined : files.get(name)
    if (type === undefined || body === undefined) return await reply.code(404).send({ error: 'Not found' })
    return await reply.header('cache-control', 'no-store').type(type).send(body)
  }
  app.get('/demo/', hide, async (_request, reply) => await serve('index.html', reply))
  app.get<{ Params: { file: string } }>('/demo/:file', hide, async (request, reply) => await serve(request.params.file, reply))
}
