import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'

type SerializerFactory = ReturnType<typeof SerializerSelector>

/**
 * Fastify's own serializer factory (fast-json-stringify), with each response schema compiled on
 * the first reply that uses it rather than when its route is registered: like the validators
 * (validation.ts), start-up pays only for what is served.
 */
export function lazySerializerFactory (): SerializerFactory {
  const build = SerializerSelector()
  return (externalSchemas, options) => {
    const compile = build(externalSchemas, options)
    return route => {
      let serialize: ((doc: unknown) => string) | undefined
      return doc => (serialize ??= compile(route))(doc)
    }
  }
}
