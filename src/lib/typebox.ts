// TypeBox as the service imports it: the build bundles this module with TypeBox into one file
// (scripts/lib/build.mjs), so the process loads one module instead of TypeBox's ~220 ES modules
// (about 90 ms and 12 MiB of a start-up on this machine). Tests load the sources, not the bundle.
export * from '@sinclair/typebox'
export { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
