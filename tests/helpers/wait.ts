/** Polls until the predicate holds (background clean-up); fails the test with `what` after timeoutMs. */
export async function waitFor (what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}
