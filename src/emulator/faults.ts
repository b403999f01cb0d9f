// Injected faults: the list of rules and the decision of what applies to one API request.

export type FaultKind = 'latency' | 'status' | 'reset' | 'hang'
export type FaultPhase = 'before' | 'after'

export interface FaultRule {
  /** e.g. 'POST'; any method when omitted. */
  method?: string
  /** A string is a prefix of the path without query (e.g. '/v2/rooms'); any path when omitted. */
  path?: string | RegExp
  kind: FaultKind
  /** latency: the delay in milliseconds. */
  ms?: number
  /** status: the status to answer (default 500). */
  status?: number
  /** status: a Retry-After header to send with it, in seconds or as an HTTP date (e.g. with 429). */
  retryAfter?: number | string
  /** How many matching requests the rule applies to (default: unlimited). */
  times?: number
  /** before (default): the request is not processed; after: it is processed, then the fault replaces the answer. */
  phase?: FaultPhase
}

/** What happens to one request: delays before and after handling, and at most one terminal fault. */
export interface FaultPlan {
  delayBefore: number
  delayAfter: number
  terminal: { kind: Exclude<FaultKind, 'latency'>, status: number, phase: FaultPhase, retryAfter?: string } | undefined
}

export const FAULT_KINDS: readonly FaultKind[] = ['latency', 'status', 'reset', 'hang']

interface ActiveRule { rule: FaultRule, remaining: number }

/** Checks a rule and throws a TypeError naming the bad field. */
export function checkFaultRule (rule: FaultRule): FaultRule {
  if (!FAULT_KINDS.includes(rule.kind)) throw new TypeError(`fault kind must be one of ${FAULT_KINDS.join(', ')}`)
  if (rule.method !== undefined && (typeof rule.method !== 'string' || rule.method === '')) throw new TypeError('fault method must be a non-empty string')
  if (rule.path !== undefined && typeof rule.path !== 'string' && !(rule.path instanceof RegExp)) throw new TypeError('fault path must be a string or a RegExp')
  if (rule.ms !== undefined && !(Number.isFinite(rule.ms) && rule.ms >= 0)) throw new TypeError('fault ms must be a non-negative number')
  if (rule.kind === 'latency' && rule.ms === undefined) throw new TypeError('a latency fault needs ms')
  if (rule.status !== undefined && !(Number.isInteger(rule.status) && rule.status >= 100 && rule.status <= 599)) {
    throw new TypeError('fault status must be an integer between 100 and 599')
  }
  if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times >= 1)) throw new TypeError('fault times must be a positive integer')
  if (rule.retryAfter !== undefined) {
    const seconds = typeof rule.retryAfter === 'number' && Number.isInteger(rule.retryAfter) && rule.retryAfter >= 0
    const date = typeof rule.retryAfter === 'string' && !Number.isNaN(Date.parse(rule.retryAfter))
    if (!seconds && !date) throw new TypeError('fault retryAfter must be a non-negative integer (seconds) or an HTTP date')
    if (rule.kind !== 'status') throw new TypeError('fault retryAfter goes with kind status')
  }
  if (rule.phase !== undefined && rule.phase !== 'before' && rule.phase !== 'after') throw new TypeError('fault phase must be before or after')
  return rule
}

/** Reads a rule sent as JSON to the control surface (path is then always a string prefix). */
export function faultRuleFromJson (value: unknown): FaultRule {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('a fault rule must be a JSON object')
  const input = value as Record<string, unknown>
  const allowed = ['method', 'path', 'kind', 'ms', 'status', 'times', 'phase', 'retryAfter']
  for (const key of Object.keys(input)) if (!allowed.includes(key)) throw new TypeError(`unknown fault field ${key}`)
  if (input.path !== undefined && typeof input.path !== 'string') throw new TypeError('fault path must be a string prefix')
  return checkFaultRule(input as unknown as FaultRule)
}

function matches (rule: FaultRule, method: string, path: string): boolean {
  if (rule.method !== undefined && rule.method.toUpperCase() !== method.toUpperCase()) return false
  if (rule.path === undefined) return true
  if (typeof rule.path === 'string') return path.startsWith(rule.path)
  rule.path.lastIndex = 0
  return rule.path.test(path)
}

export class FaultList {
  #rules: ActiveRule[] = []

  add (rule: FaultRule): void {
    checkFaultRule(rule)
    this.#rules.push({ rule: { ...rule }, remaining: rule.times ?? Infinity })
  }

  clear (): void {
    this.#rules = []
  }

  get size (): number {
    return this.#rules.length
  }

  /**
   * Rules are checked in the order added. Every matching latency rule applies (delays add up);
   * the first matching status/reset/hang rule applies and later ones are not consulted.
   * A rule that applies uses up one of its `times`.
   */
  take (method: string, path: string): FaultPlan {
    const plan: FaultPlan = { delayBefore: 0, delayAfter: 0, terminal: undefined }
    for (const active of this.#rules) {
      const { rule } = active
      if (active.remaining <= 0 || !matches(rule, method, path)) continue
      const phase = rule.phase ?? 'before'
      if (rule.kind === 'latency') {
        if (phase === 'before') plan.delayBefore += rule.ms ?? 0
        else plan.delayAfter += rule.ms ?? 0
      } else {
        plan.terminal = {
          kind: rule.kind,
          status: rule.status ?? 500,
          phase,
          ...(rule.retryAfter !== undefined ? { retryAfter: String(rule.retryAfter) } : {})
        }
      }
      active.remaining--
      if (plan.terminal !== undefined) break
    }
    this.#rules = this.#rules.filter(active => active.remaining > 0)
    return plan
  }
}
