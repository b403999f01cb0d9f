// /v2/uploads: files shared during calls (added by the test controls), listed by room and deleted one by one.
import type { FastifyInstance } from 'fastify'
import { paths } from '../../kaleyra/wire.js'
import { notFound, pageOf, queryOf, readPage } from '../http.js'
import type { EmulatorState } from '../state.js'

export function registerUploadRoutes (app: FastifyInstance, state: EmulatorState): void {
  app.get(paths.uploads(), async (request) => {
    const query = queryOf(request.url)
    const page = readPage(query)
    const all = [...state.uploads.values()].filter(u => query.room_id === undefined || u.roomId === query.room_id)
    const { items, ...rest } = pageOf(all, page)
    return {
      uploads: items.map(u => ({ key: u.key, room_id: u.roomId, file_name: u.fileName, creation_date: u.createdAt })),
      ...rest
    }
  })

  app.delete<{ Params: { key: string } }>(`${paths.uploads()}/:key`, async (request) => {
    const { key } = request.params
    if (!state.uploads.delete(key)) throw notFound(`upload ${key} not found`)
    return { key }
  })
}
