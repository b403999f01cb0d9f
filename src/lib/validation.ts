import { Ajv, type Options, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'
import { coerceScalars } from './coercion.js'

const common: Options = { useDefaults: true, removeAdditional: true, allErrors: false, strict: false }

type Validator = ((data: unknown) => boolean | { value: unknown }) & { errors?: ValidateFunction['errors'] }
interface Compilers { strict: Ajv, coercing: Ajv }

function createCompilers (): Compilers {
  const strict = new Ajv({ ...common, coerceTypes: false })
  const coercing = new Ajv({ ...common, coerceTypes: 'array' })
  addFormats.default(strict)
  addFormats.default(coercing)
  return { strict, coercing }
}

/**
 * Bodies: numbers, integers and booleans sent as strings are coerced as custom-plugin-lib coerced
 * them (see coercion.ts), then validated as they are (a string never becomes an array).
 * Querystring, params and headers are strings on the wire: Fastify's `coerceTypes: 'array'`.
 */
function compile (compilers: Compilers, schema: object, httpPart: string | undefined): Validator {
  if (httpPart !== 'body') return compilers.coercing.compile(schema)
  const validate = compilers.strict.compile(schema)
  const validateBody: Validator = data => {
    const value = coerceScalars(schema, data)
    const valid = validate(value)
    validateBody.errors = validate.errors
    return valid && value !== data ? { value } : valid
  }
  return validateBody
}

/**
 * The validator compiler of every route. A schema is compiled on the route's first request, not
 * when the route is registered: start-up does not pay for routes a replica never serves (Ajv's
 * compilation was a tenth of the start-up CPU). tests/platform/lazy-schemas.test.ts compiles every
 * route's schemas, so that a broken one still fails a test rather than a first request.
 */
export function createValidatorCompiler (): FastifySchemaCompiler<unknown> {
  let compilers: Compilers | undefined
  return ({ schema, httpPart }) => {
    let validate: Validator | undefined
    const validateOnFirstUse: Validator = data => {
      validate ??= compile(compilers ??= createCompilers(), schema as object, httpPart)
      const result = validate(data)
      validateOnFirstUse.errors = validate.errors
      return result
    }
    return validateOnFirstUse
  }
}
