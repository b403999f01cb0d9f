// The container's HEALTHCHECK: exit 0 when the liveness probe answers 200, 1 otherwise.
// Slim Node images have neither curl nor wget, so this uses Node's fetch. It runs as its own
// short process, so it reads HTTP_PORT directly instead of loading (and validating) the whole config.
const port = process.env.HTTP_PORT ?? '3000'

try {
  const res = await fetch(`http://127.0.0.1:${port}/-/healthz`, { signal: AbortSignal.timeout(4_000) })
  process.exitCode = res.ok ? 0 : 1
} catch {
  process.exitCode = 1
}
