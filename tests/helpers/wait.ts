/** How long waitFor waits by default: a ceiling that only matters when something is broken. */
export const WAIT_TIMEOUT_MS = 60_000

/** Polls until the predicate holds (background clean-up); fails the test with `what` after timeoutMs. */
export async function waitFor (
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = WAIT_TIMEOUT_MS
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}
