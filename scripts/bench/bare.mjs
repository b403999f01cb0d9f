// The baseline of `npm run bench`: bare Fastify (the service's Fastify version) with the service's
// logger options (src/platform/logging.ts, compiled) and Fastify's own request logging, one JSON
// route with a response schema. Port from HTTP_PORT, level from LOG_LEVEL.
import Fastify from 'fastify'
import { loggerOptions } from '../../dist/platform/logging.js'

const app = Fastify({ logger: loggerOptions(process.env.LOG_LEVEL ?? 'info') })

const schema = { response: { 200: { type: 'object', properties: { hello: { type: 'string' } } } } }
app.get('/', { schema }, async () => ({ hello: 'world' }))

await app.listen({ host: '127.0.0.1', port: Number(process.env.HTTP_PORT ?? 0) })
// Like the service, it closes and exits on SIGTERM (which also lets --cpu-prof write its profile).
process.once('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
