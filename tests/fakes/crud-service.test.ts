import t from 'tap'
import { startFakeCrudService, type FakeCrudService } from './crud-service.js'

async function start (t: { teardown: (fn: () => unknown) => void }): Promise<FakeCrudService> {
  const crud = await startFakeCrudService({
    collections: {
      books: { fields: ['title', 'pages', 'tags', 'authors', 'shelf'], unique: ['title'] },
      open: {}
    }
  })
  t.teardown(() => crud.close())
  return crud
}

async function call (
  crud: FakeCrudService,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {}
) {
  const res = await fetch(crud.url + path, {
    method,
    headers: body !== undefined ? { 'content-type': 'application/json', ...headers } : headers,
    body: body !== undefined ? JSON.stringify(body) : undefined
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) }
}

const q = (filter: unknown): string => encodeURIComponent(JSON.stringify(filter))

t.test('inserts default to DRAFT, which GET /:id hides unless _st asks for it', async t => {
  const crud = await start(t)
  const draft = await call(crud, 'POST', '/books/', { title: 'Draft' }, { miauserid: 'alice' })
  t.equal(draft.status, 200)
  t.match(draft.body._id, /^[a-f0-9]{24}$/)
  t.same(await call(crud, 'GET', `/books/${draft.body._id}`), { status: 404, body: { error: 'not found' } })
  const found = await call(crud, 'GET', `/books/${draft.body._id}?_st=PUBLIC,DRAFT`)
  t.equal(found.status, 200)
  t.match(found.body, { title: 'Draft', __STATE__: 'DRAFT', creatorId: 'alice', updaterId: 'alice', createdAt: String })
  const anonymous = await call(crud, 'POST', '/books/', { title: 'Public', __STATE__: 'PUBLIC' }, { miauserid: 'null' })
  t.equal(crud.document('books', anonymous.body._id)?.creatorId, 'public', 'an invalid user id header counts as public')
  t.equal((await call(crud, 'GET', '/books/not-an-id')).status, 404)
})

t.test('lists need the trailing slash and honour _q, _st, _l, _sk, _s, _p', async t => {
  const crud = await start(t)
  crud.seed('books', [
    { title: 'A', pages: 100, tags: ['x', 'y'], authors: [{ name: 'ann' }], __STATE__: 'PUBLIC' },
    { title: 'B', pages: 200, tags: [], __STATE__: 'PUBLIC' },
    { title: 'C', pages: 300, __STATE__: 'DRAFT' },
    { title: 'D', pages: 400, __STATE__: 'TRASH' }
  ])
  t.same(await call(crud, 'GET', '/books'), { status: 404, body: { error: 'not found' } }, 'no trailing slash: 404 like the real one')
  const titles = async (query: string): Promise<string[]> => (await call(crud, 'GET', `/books/?${query}`)).body.map((d: { title: string }) => d.title)
  t.same(await titles(''), ['A', 'B'], 'PUBLIC only by default')
  t.same(await titles('_st=PUBLIC,DRAFT&_s=-pages'), ['C', 'B', 'A'])
  t.same(await titles(`_q=${q({ $or: [{ pages: { $gte: 300 } }, { tags: 'x' }] })}&_st=PUBLIC,DRAFT,TRASH`), ['A', 'C', 'D'])
  t.same(await titles(`_q=${q({ 'tags.0': { $exists: true } })}`), ['A'])
  t.same(await titles(`_q=${q({ tags: { $size: 0 } })}`), ['B'])
  t.same(await titles(`_q=${q({ authors: { $elemMatch: { name: 'ann' } } })}`), ['A'])
  t.same(await titles(`_q=${q({ shelf: { $exists: false }, title: { $in: ['A', 'Z'] } })}`), ['A'])
  t.same(await titles(`_q=${q({ pages: { $ne: 100 }, title: { $nin: ['C'] } })}`), ['B'])
  t.same(await titles('_s=pages&_sk=1&_l=1'), ['B'])
  t.same(await titles('title=B'), ['B'], 'other query keys are equality filters')
  t.same((await call(crud, 'GET', '/books/?_p=title&_l=1')).body, [{ _id: crud.documents('books')[0]._id, title: 'A' }])
  t.same((await call(crud, 'GET', '/books/count?_st=PUBLIC,DRAFT')).body, 3)

  const refused = await call(crud, 'GET', `/books/?_q=${q({ pages: { $where: 'x' } })}`)
  t.equal(refused.status, 400, 'an unknown operator is refused')
  t.match(refused.body.message, /Unsupported operator: \$where/)
  t.equal((await call(crud, 'GET', `/books/?_q=${q({ color: 'red' })}`)).status, 400, 'an unknown field is refused')
  t.equal((await call(crud, 'GET', '/books/?_l=201')).status, 400, 'limit above CRUD_MAX_LIMIT')
  t.equal((await call(crud, 'GET', '/books/?_st=GONE')).status, 400)
  t.equal((await call(crud, 'GET', '/books/?_q={oops')).status, 400)
})

t.test('PATCH /:id applies operators, honours _q and refuses what the CRUD refuses', async t => {
  const crud = await start(t)
  const [id] = crud.seed('books', [{ title: 'A', pages: 1, tags: ['x'], authors: [{ name: 'a' }, { name: 'b' }], __STATE__: 'PUBLIC' }])
  const res = await call(crud, 'PATCH', `/books/${id}?_q=${q({ pages: 1 })}`, {
    $set: { title: 'B' },
    $inc: { pages: 2 },
    $push: { tags: { $each: ['y', 'z'] } },
    $addToSet: { 'authors.0.roles': 'editor' },
    $pull: { authors: { name: 'b' } },
    $unset: { shelf: true }
  }, { miauserid: 'bob' })
  t.equal(res.status, 200)
  t.match(res.body, { _id: id, title: 'B', pages: 3, tags: ['x', 'y', 'z'], authors: [{ name: 'a', roles: ['editor'] }], updaterId: 'bob' })
  t.notOk('shelf' in res.body)
  t.same(await call(crud, 'PATCH', `/books/${id}?_q=${q({ pages: 1 })}`, { $set: { title: 'C' } }), { status: 404, body: { error: 'not found' } }, 'filter not matching: 404')
  t.equal(crud.document('books', id)?.title, 'B')
  t.equal((await call(crud, 'PATCH', `/books/${id}`, { $set: { __STATE__: 'TRASH' } })).status, 400, 'the state cannot be patched')
  t.equal((await call(crud, 'PATCH', `/books/${id}`, { $set: { color: 'red' } })).status, 400, 'unknown field')
  t.equal((await call(crud, 'PATCH', `/books/${id}`, { title: 'raw' })).status, 400, 'not an operator')
  await call(crud, 'PATCH', `/books/${id}`, { $currentDate: { shelf: true }, $mul: { pages: 2 }, $pull: { tags: { $in: ['x'] } } })
  t.match(crud.document('books', id), { pages: 6, tags: ['y', 'z'], shelf: String })
})

t.test('states move as the CRUD allows; DELETE removes; unique indexes answer 409', async t => {
  const crud = await start(t)
  const { _id: id } = (await call(crud, 'POST', '/books/', { title: 'A', __STATE__: 'PUBLIC' })).body
  t.equal((await call(crud, 'POST', `/books/${id}/state`, { stateTo: 'TRASH' })).status, 204)
  t.equal(crud.document('books', id)?.__STATE__, 'TRASH')
  t.same(await call(crud, 'POST', `/books/${id}/state`, { stateTo: 'TRASH' }), { status: 404, body: { error: 'not found' } }, 'TRASH to TRASH is not a transition')
  t.equal((await call(crud, 'POST', `/books/${id}/state`, { stateTo: 'PUBLIC' })).status, 404, 'TRASH cannot go straight to PUBLIC')
  t.equal((await call(crud, 'POST', `/books/${id}/state`, { stateTo: 'DRAFT' })).status, 204, 'TRASH back to DRAFT')
  t.equal((await call(crud, 'POST', `/books/${id}/state`, { stateTo: 'LOST' })).status, 400)
  const dup = await call(crud, 'POST', '/books/', { title: 'A' })
  t.equal(dup.status, 409)
  t.match(dup.body.message, /E11000 duplicate key/)
  t.equal((await call(crud, 'POST', '/books/', { title: 'B', color: 'red' })).status, 400, 'a field outside the schema')
  t.equal((await call(crud, 'POST', '/open/', { anything: true })).status, 200, 'a collection without a field list takes anything')
  t.equal((await call(crud, 'DELETE', `/books/${id}`)).status, 404, 'DELETE looks among PUBLIC documents by default')
  t.equal((await call(crud, 'DELETE', `/books/${id}?_st=DRAFT`)).status, 204)
  t.equal(crud.documents('books').length, 0)
})

t.test('faults: a status before processing changes nothing; a reset after processing loses only the answer', async t => {
  const crud = await start(t)
  crud.faults.add({ method: 'POST', path: '/books/', kind: 'status', status: 503, times: 1 })
  t.equal((await call(crud, 'POST', '/books/', { title: 'A' })).status, 503)
  t.equal(crud.documents('books').length, 0)
  crud.faults.add({ method: 'POST', path: '/books/', kind: 'reset', phase: 'after', times: 1 })
  await t.rejects(call(crud, 'POST', '/books/', { title: 'A' }))
  t.equal(crud.documents('books').length, 1, 'written although the client got no answer')
  t.same(crud.requests().map(r => [r.method, r.path, r.status]), [['POST', '/books/', 503], ['POST', '/books/', 0]])
  t.same(crud.requests()[1].body, { title: 'A' })
})
