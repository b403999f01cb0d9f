// What `kaleyra:check` prints: one line per call, a summary and what is left on Kaleyra; or the
// same as one JSON document. Key names, statuses and our own ids only: never a key or a link.
import type { CallOutcome, CallResult, CheckReport } from './run.js'

export type Summary = Record<CallOutcome, number>

export function summaryOf (calls: CallResult[]): Summary {
  const summary: Summary = { ok: 0, mismatch: 0, failed: 0, skipped: 0 }
  for (const call of calls) summary[call.result]++
  return summary
}

/** Exit 0 only when every call was made and answered as expected. */
export function passed (report: CheckReport): boolean {
  return !report.interrupted && report.calls.length > 0 && report.calls.every(c => c.result === 'ok')
}

function explanation (result: CallResult): string {
  const parts: string[] = []
  if (result.subject !== undefined) parts.push(result.subject)
  if (result.result === 'failed') {
    const status = result.status === undefined ? '' : `status ${result.status}`
    const name = result.errorName === undefined ? '' : ` (${result.errorName})`
    parts.push([status + name, result.detail].filter(p => p !== undefined && p !== '').join(': '))
  } else if (result.detail !== undefined) {
    parts.push(result.detail)
  }
  if (result.missing !== undefined && result.missing.length > 0) parts.push(`missing ${result.missing.join(', ')}`)
  if (result.unexpected !== undefined && result.unexpected.length > 0) parts.push(`unexpected ${result.unexpected.join(', ')}`)
  return parts.join('; ')
}

export function formatLine (result: CallResult): string {
  return `${result.result.padEnd(9)}${result.call.padEnd(24)}${result.request.padEnd(38)}${explanation(result)}`.trimEnd()
}

export function textTrailer (report: CheckReport): string[] {
  const s = summaryOf(report.calls)
  const lines = [`${report.calls.length} calls: ${s.ok} ok, ${s.mismatch} mismatch, ${s.failed} failed, ${s.skipped} skipped`]
  if (report.interrupted) lines.push('Interrupted: the remaining calls were not made.')
  lines.push(report.remains.length === 0 ? 'Left on Kaleyra: nothing.' : `Left on Kaleyra: ${report.remains.join('; ')}.`)
  lines.push(passed(report) ? 'Everything the service relies on answered as expected.' : 'Not ready: see the lines above (docs/kaleyra.md says what each one means).')
  return lines
}

export function jsonDocument (report: CheckReport, target: string): Record<string, unknown> {
  return {
    target,
    ok: passed(report),
    interrupted: report.interrupted,
    calls: report.calls,
    summary: summaryOf(report.calls),
    remains: report.remains
  }
}
