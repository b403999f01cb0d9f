import { TypeCompiler, type Static, type TSchema, type TypeCheck } from './typebox.js'

export interface Checker<T extends TSchema> {
  Check: (value: unknown) => value is Static<T>
}

/**
 * A TypeBox check compiled on its first use, not when the module declaring it is loaded: the
 * answers of Kaleyra calls a process never makes cost nothing at start-up.
 */
export function checkerOf<T extends TSchema> (schema: T): Checker<T> {
  let compiled: TypeCheck<T> | undefined
  return { Check: (value): value is Static<T> => (compiled ??= TypeCompiler.Compile(schema)).Check(value) }
}
