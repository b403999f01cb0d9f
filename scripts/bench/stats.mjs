// Summaries of repeated measurements: every figure is reported as median [min–max].

export function summary (values) {
  const sorted = values.filter(v => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return { min: NaN, median: NaN, max: NaN, n: 0 }
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return { min: sorted[0], median, max: sorted[sorted.length - 1], n: sorted.length }
}

export function median (values) {
  return summary(values).median
}

/** Element-wise a[i] / b[i]: the ratio of each repetition to the baseline measured next to it. */
export function ratios (a, b) {
  return a.map((value, i) => value / b[i])
}

/** `12345 [12001–12890]` with `digits` decimals. */
export function formatSummary (s, digits = 0) {
  if (s.n === 0) return 'n/a'
  const f = v => v.toFixed(digits)
  return s.n === 1 ? f(s.median) : `${f(s.median)} [${f(s.min)}–${f(s.max)}]`
}
