import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

// These tests run the compiled service (`npm test` builds first) as a user would.
const root = fileURLToPath(new URL('..', import.meta.url))
const server = fileURLToPath(new URL('../dist/server.js', import.meta.url))

function run (env: Record<string, string>) {
  const clean: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }
  return spawnSync(process.execPath, [server], { cwd: root, env: { ...clean, ...env }, encoding: 'utf8', timeout: 20_000 })
}

t.test('a bad configuration stops the process with one line naming the problem', async t => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{}, /^Configuration error: BANDYER_API_SECRET_KEY is required/],
    [{ BANDYER_API_SECRET_KEY: 'k', BANDYER_BASE_URL: 'https://api.sandbox.eu.bandyer.com', HTTP_PORT: 'abc' }, /^Configuration error: HTTP_PORT must be integer/],
    [{ KALEYRA_EMULATOR: 'true', TELECONSULTATION_SERVICE_CONFIG_PATH: fileURLToPath(new URL('config/fixtures/bad-group.json', import.meta.url)) },
      /^Configuration error: service configuration: privileges\.basic\.groups/]
  ]
  for (const [env, message] of cases) {
    const result = run(env)
    t.equal(result.status, 1, 'exit code 1')
    t.match(result.stderr, message)
    t.equal(result.stderr.trim().split('\n').length, 1, 'a single line')
    t.notOk(result.stderr.includes('    at '), 'no stack trace')
  }
})

t.test('npm run demo serves the scripted scenario exactly as the contract says, then stops on SIGTERM', async t => {
  const demo = spawn(process.execPath, ['scripts/demo.mjs'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HTTP_PORT: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { if (demo.exitCode === null) demo.kill('SIGKILL') })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start: ${output}`)), 30_000)
    demo.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = /Teleconsultation service \(demo\): (http:\/\/\S+)/.exec(output)
      if (match !== null) { clearTimeout(timer); resolve(match[1]) }
    })
    demo.on('exit', code => reject(new Error(`demo exited (${String(code)}): ${output}`)))
  })
  t.match(output, /curl -s -X POST .*\/teleconsultation/, 'the demo prints a request to copy')

  const scenario = spawnSync(process.execPath, ['scripts/scenario.mjs', url], { cwd: root, encoding: 'utf8', timeout: 30_000 })
  t.equal(scenario.status, 0, scenario.stdout)
  t.match(scenario.stdout, /scenario passed/)
  t.notMatch(scenario.stdout, /FAIL/)

  const exited = new Promise<number | null>(resolve => demo.on('exit', code => resolve(code)))
  demo.kill('SIGTERM')
  t.equal(await exited, 0, 'a clean exit on SIGTERM')
})
