// docs/api.md's walk-through, run as written: its shell blocks, in order, under `set -e`, against
// the demo it starts (on free ports). Any step failing fails the test.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const root = fileURLToPath(new URL('../..', import.meta.url))
/** A run compiles first when dist/ is stale, then makes about 40 requests. */
const RUN_TIMEOUT_MS = 240_000

/** The ```sh blocks of the walk-through section, in order. */
function walkThrough (markdown: string): string[] {
  const start = markdown.indexOf('\n## A walk-through with the demo')
  const end = markdown.indexOf('\n## ', start + 1)
  if (start < 0) throw new Error('docs/api.md has no "A walk-through with the demo" section')
  const section = markdown.slice(start, end < 0 ? undefined : end)
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map(m => m[1])
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

interface Run { code: number | null, output: string }

/** Runs the blocks as one bash script in its own process group, killed (demo included) at the end. */
async function run (t: { teardown: (fn: () => unknown) => void }, blocks: string[]): Promise<Run> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    HTTP_PORT: String(await freePort()),
    KALEYRA_EMULATOR_PORT: String(await freePort())
  }
  // Not tap's loader: the demo runs the compiled service.
  delete env.NODE_OPTIONS
  const child = spawn('bash', ['-c', ['set -euo pipefail', ...blocks].join('\n')], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const killGroup = (): void => {
    try { process.kill(-(child.pid ?? 0), 'SIGKILL') } catch {}
  }
  t.teardown(killGroup)
  const timer = setTimeout(() => {
    output += `\n[killed after ${RUN_TIMEOUT_MS} ms]`
    killGroup()
  }, RUN_TIMEOUT_MS)
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  clearTimeout(timer)
  return { code, output }
}

const blocks = walkThrough(readFileSync(`${root}/docs/api.md`, 'utf8'))

t.test('the walk-through of docs/api.md runs as written', async t => {
  t.ok(blocks.length >= 4, 'its blocks are found')
  t.match(blocks[0], 'scripts/demo.mjs', 'it starts the demo')
  t.match(blocks[0], '/-/ready', 'and waits until it is ready')
  const { code, output } = await run(t, blocks)
  t.equal(code, 0, 'every step succeeded', { output })
  t.match(output, '{"total":3,"deleted":3}', 'the uploads were cleaned up')
  t.match(output, 'Good morning', 'the transcription was read')
  t.match(output, 'Unauthorized user', 'the stranger was refused')
})

t.test('a broken step fails the walk-through', async t => {
  const broken = blocks.map(b => b.replace('-d \'{"count":3}\'', '-d \'{"count":0}\''))
  t.not(broken.join(''), blocks.join(''), 'the uploads step is broken (an emulator refusal)')
  const stopped = await run(t, broken)
  t.not(stopped.code, 0, 'a request that fails stops it')
  t.match(stopped.output, 'curl: (22) The requested URL returned error: 422')
  t.notMatch(stopped.output, '{"total":3,"deleted":3}', 'nothing after it ran')
})

t.test('a refusal that does not come fails the walk-through', async t => {
  const broken = blocks.map(b => b.replace("refused 401 $S/teleconsultation/$ID -H 'miauserid: someone-else'", "refused 401 $S/teleconsultation/$ID -H 'miauserid: patient-1'"))
  t.not(broken.join(''), blocks.join(''), 'the stranger became a participant')
  const stopped = await run(t, broken)
  t.not(stopped.code, 0)
  t.match(stopped.output, 'expected HTTP 401, got 200')
})
