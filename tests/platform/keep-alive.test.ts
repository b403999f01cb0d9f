import type { AddressInfo, Socket } from 'node:net'
import t from 'tap'
import { Agent, request } from 'undici'
import { setup } from '../helpers/app.js'

t.test('requests on one keep-alive connection leave no listener behind on its socket', async t => {
  const { app } = await setup(t)
  const sockets: Socket[] = []
  app.server.on('connection', (socket: Socket) => sockets.push(socket))
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/-/healthz`
  const agent = new Agent({ connections: 1, pipelining: 1 })
  t.teardown(() => agent.close())
  const warnings: string[] = []
  const onWarning = (w: Error): void => { warnings.push(w.name) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })

  const get = async (): Promise<void> => {
    const res = await request(url, { dispatcher: agent })
    await res.body.dump()
    t.equal(res.statusCode, 200)
  }
  await get()
  const after1 = sockets[0].listenerCount('close')
  for (let i = 0; i < 30; i++) await get()
  t.equal(sockets.length, 1, 'one connection served them all')
  t.equal(sockets[0].listenerCount('close'), after1, 'as many close listeners after 31 requests as after 1')
  t.notOk(warnings.includes('MaxListenersExceededWarning'))
})
