import { readFileSync } from 'node:fs'

export interface PackageInfo { name: string, version: string, description: string }

let cached: PackageInfo | undefined

/** name, version and description of this service, from package.json (one level above src/ or dist/). */
export function readPackage (): PackageInfo {
  if (cached === undefined) {
    const raw = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as PackageInfo
    cached = { name: raw.name, version: raw.version, description: raw.description }
  }
  return cached
}
