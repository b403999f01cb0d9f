import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { parseAllDocuments } from 'yaml'
import { EnvSchema, loadEnv } from '../../src/config/env.js'
import { resolveServiceConfig } from '../../src/config/service-config.js'
import { setup, UPSTREAM_TIMEOUT_MS } from '../helpers/app.js'
import { httpCall, startProcess } from '../helpers/process.js'
import { waitFor } from '../helpers/wait.js'

interface DockerInstruction { stage: number, instruction: string, args: string }

/** Instructions of a Dockerfile (continuation lines joined, comments dropped), numbered by build stage. */
function parseDockerfile (text: string): DockerInstruction[] {
  const instructions: DockerInstruction[] = []
  let stage = -1
  for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
    const match = /^\s*([A-Z]+)\s+(.*)$/.exec(line)
    if (match === null || line.trimStart().startsWith('#')) continue
    if (match[1] === 'FROM') stage++
    instructions.push({ stage, instruction: match[1], args: match[2].replace(/\s+/g, ' ').trim() })
  }
  return instructions
}

interface MarketplacePlugin {
  dockerImage: string
  containerPorts: Array<{ to: number }>
  defaultEnvironmentVariables: Array<{ name: string, value?: string, valueType: string }>
  defaultProbes: Record<'liveness' | 'readiness' | 'startup', { path: string }>
  defaultLogParser: string
  defaultMonitoring: { endpoints: Array<{ path: string }> }
  defaultDocumentationPath: string
  defaultConfigMaps: Array<{ mountPath: string, files: Array<{ name: string, content: string }> }>
}

const root = fileURLToPath(new URL('../..', import.meta.url))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
const dockerfile = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'))
const runtime = dockerfile.filter(i => i.stage === dockerfile.at(-1)?.stage)
const envVariables = Object.keys(EnvSchema.properties)

function only (instructions: DockerInstruction[], name: string): string {
  const found = instructions.filter(i => i.instruction === name)
  if (found.length !== 1) throw new Error(`expected one ${name} in the runtime stage, found ${found.length}`)
  return found[0].args
}

function execForm (args: string): string[] {
  return JSON.parse(args.slice(args.indexOf('['))) as string[]
}

/**
 * Whether .dockerignore lets `path` (relative to the context root) into the build context: the
 * last matching rule wins. Handles the rules this project uses (`*`, plain paths, `!` before
 * either); anything else is refused rather than guessed.
 */
function inBuildContext (rules: string[], path: string): boolean {
  let included = true
  for (const rule of rules) {
    const negated = rule.startsWith('!')
    const pattern = (negated ? rule.slice(1) : rule).replace(/\/+$/, '')
    if (pattern !== '*' && /[*?[\]]/.test(pattern)) throw new Error(`.dockerignore rule not handled by this test: ${rule}`)
    if (pattern === '*' || path === pattern || path.startsWith(`${pattern}/`)) included = negated
  }
  return included
}

const imageEnv = Object.fromEntries(only(runtime, 'ENV').split(/\s+/).map(pair => pair.split('=') as [string, string]))

/** Whether a user other than the owner can execute `file` (every directory on the way searchable). */
function runnableByOthers (file: string): boolean {
  let path = realpathSync(file)
  if ((statSync(path).mode & 0o001) === 0) return false
  while (path !== dirname(path)) {
    path = dirname(path)
    if ((statSync(path).mode & 0o001) === 0) return false
  }
  return true
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    }).on('error', reject)
  })
}

t.test('the Dockerfile follows the platform conventions', async t => {
  const base = dockerfile.find(i => i.instruction === 'ARG' && i.args.startsWith('NODE_IMAGE='))?.args
  t.match(base, /^NODE_IMAGE=node:24\.\d+\.\d+-[a-z]+-slim$/, 'Node 24 LTS slim, pinned to an exact version')
  t.same(dockerfile.filter(i => i.instruction === 'FROM').map(i => i.args), ['${NODE_IMAGE} AS build', '${NODE_IMAGE}'], 'multi-stage') // eslint-disable-line no-template-curly-in-string
  t.match(imageEnv, { NODE_ENV: 'production', HTTP_PORT: '3000', LOG_LEVEL: 'info', SERVICE_PREFIX: '/' })
  t.same(loadEnv({ ...imageEnv, KALEYRA_EMULATOR: 'true' }).HTTP_PORT, 3000, 'the image defaults are valid configuration')
  t.equal(only(runtime, 'USER'), 'node', 'runs as a non-root user')
  t.same(execForm(only(runtime, 'ENTRYPOINT')), ['/usr/bin/tini', '--'], 'under an init process')
  t.equal(only(runtime, 'EXPOSE'), imageEnv.HTTP_PORT)
  const labels = only(runtime, 'LABEL')
  t.match(labels, `eu.mia-platform.version="${pkg.version}"`, 'labels carry the package version')
  t.match(labels, `org.opencontainers.image.version="${pkg.version}"`)
  t.ok(runtime.some(i => i.instruction === 'RUN' && /npm ci --omit=dev/.test(i.args)), 'production dependencies only')
  t.match(only(runtime, 'HEALTHCHECK'), /CMD \["node", "dist\/healthcheck\.js"\]$/)
  const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
  t.match(ignored, /^\*$/m, '.dockerignore keeps the build context to what the build copies')
})

t.test('the image, rebuilt without Docker: production install, compiled output, readable by a non-root user, HEALTHCHECK', async t => {
  const tree = mkdtempSync(join(tmpdir(), 'tcs-image-'))
  t.teardown(() => rmSync(tree, { recursive: true, force: true }))

  // The build stage, from only what .dockerignore lets into the context: its COPYs, then its RUN
  // steps. The repository's node_modules stands in for its `npm ci` (the runtime stage's install
  // is run for real below), so this is the real `npm run build` on the copied files.
  const ignoreRules = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))
  const build = join(tree, 'build')
  mkdirSync(build)
  const buildStage = dockerfile.filter(i => i.stage === 0)
  for (const copy of buildStage.filter(i => i.instruction === 'COPY')) {
    const [destination, ...sources] = copy.args.split(' ').reverse()
    for (const source of sources) {
      if (destination !== './' && destination !== `./${source}`) throw new Error(`COPY not handled by this test: ${copy.args}`)
      t.ok(inBuildContext(ignoreRules, source), `${source} (COPY in the build stage) is in the build context`)
      cpSync(join(root, source), join(build, source), { recursive: true })
    }
  }
  symlinkSync(join(root, 'node_modules'), join(build, 'node_modules'), 'dir')
  const buildSteps = buildStage.filter(i => i.instruction === 'RUN' && !i.args.startsWith('npm ci '))
  t.same(buildSteps.map(i => i.args), ['npm run build'])
  // Without tap's coverage loader (NODE_OPTIONS), which the image does not have either.
  const buildEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_OPTIONS'))
  for (const step of buildSteps) await promisify(execFile)('sh', ['-c', step.args], { cwd: build, env: buildEnv })
  t.ok(existsSync(join(build, 'dist', 'server.js')), 'the build stage compiles the service')
  t.ok(existsSync(join(build, 'dist', 'demo-page', 'public', 'waiting-room.js')), 'and copies the demo\'s waiting room (the demo runs from the image too)')
  const app = join(tree, 'home', 'node', 'app')
  mkdirSync(app, { recursive: true })
  for (const dir of [tree, join(tree, 'home'), join(tree, 'home', 'node'), app]) chmodSync(dir, 0o755)

  // COPY package.json package-lock.json ./ ; RUN npm ci --omit=dev … (from the local cache)
  const runtimeCopies = runtime.filter(i => i.instruction === 'COPY' && !i.args.startsWith('--from='))
  t.same(runtimeCopies.map(i => i.args), ['package.json package-lock.json ./'])
  for (const file of ['package.json', 'package-lock.json']) {
    t.ok(inBuildContext(ignoreRules, file), `${file} (COPY in the runtime stage) is in the build context`)
    cpSync(join(root, file), join(app, file))
  }
  const install = runtime.find(i => i.instruction === 'RUN' && i.args.startsWith('npm ci --omit=dev'))
  const installArgs = (install?.args.split('&&')[0] ?? '').trim().split(/\s+/).slice(1)
  await promisify(execFile)('npm', [...installArgs, '--prefer-offline'], { cwd: app })
  // COPY --from=build /build/dist ./dist
  t.ok(runtime.some(i => i.instruction === 'COPY' && i.args === '--from=build /build/dist ./dist'), 'the runtime stage takes the compiled output only')
  cpSync(join(build, 'dist'), join(app, 'dist'), { recursive: true })

  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> }
  const devOnly = Object.entries(lock.packages)
    .filter(([path, entry]) => entry.dev === true && existsSync(join(app, path)))
    .map(([path]) => path)
  t.same(devOnly, [], 'no development-only package in the image')
  t.notOk(existsSync(join(app, 'node_modules', 'typescript')), 'not even the compiler')
  const unreadable: string[] = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry)
      const stat = lstatSync(path)
      if (stat.isSymbolicLink()) continue
      const needed = stat.isDirectory() ? 0o005 : 0o004
      if ((stat.mode & needed) !== needed || (stat.mode & 0o002) !== 0) unreadable.push(`${path} ${(stat.mode & 0o777).toString(8)}`)
      if (stat.isDirectory()) walk(path)
    }
  }
  walk(app)
  t.same(unreadable, [], 'every file readable (and none writable) by the non-root user')

  // USER node: as root here, start as an unprivileged user to prove it (when that user can run
  // this Node binary: one from npx lives under /root). Without tap's coverage loader
  // (NODE_OPTIONS), which is not in the image and could not write its files as that user.
  const dropPrivileges = process.getuid?.() === 0 && runnableByOthers(process.execPath)
  if (!dropPrivileges) t.comment(`started as uid ${process.getuid?.()}: ${process.execPath} cannot be run by an unprivileged user`)
  const asUser = dropPrivileges ? { uid: 65534, gid: 65534 } : {}
  const node = ['/usr/bin/env', '-u', 'NODE_OPTIONS', process.execPath]
  const port = String(await freePort())
  // The readiness checks get the tests' long deadline, as elsewhere (helpers/app.ts).
  const env = { PATH: process.env.PATH, ...imageEnv, HTTP_PORT: port, KALEYRA_EMULATOR: 'true', WAIT_BEFORE_SERVER_CLOSE_SEC: '0', STATUS_CHECK_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS) }
  const [, ...healthcheck] = execForm(only(runtime, 'HEALTHCHECK'))
  const check = async (): Promise<number | null> => await new Promise(resolve => {
    spawn(node[0], [...node.slice(1), ...healthcheck], { cwd: app, env, stdio: 'ignore', ...asUser }).on('exit', code => resolve(code))
  })
  t.equal(await check(), 1, 'the HEALTHCHECK fails while nothing answers')

  const [, ...command] = execForm(only(runtime, 'CMD'))
  const server = startProcess(t, [...node, ...command], { cwd: app, env, ...asUser })
  await waitFor('the HEALTHCHECK to pass', async () => await check() === 0)
  t.match(JSON.parse((await httpCall(`http://127.0.0.1:${port}/-/healthz`)).body), { status: 'OK', version: pkg.version })
  t.equal((await httpCall(`http://127.0.0.1:${port}/-/ready`)).status, 200)
  server.child.kill('SIGTERM')
  t.same(await server.exited, { code: 0, signal: null }, 'stops cleanly on SIGTERM')
  t.same(server.stderr.filter(line => line !== ''), [], 'nothing on stderr')
})

t.test('kubernetes.yaml and the Marketplace item match the service', async t => {
  const { app } = await setup(t)
  for (const path of ['/-/healthz', '/-/ready', '/-/metrics', '/documentation/json']) {
    t.equal((await app.inject({ method: 'GET', url: path })).statusCode, 200, `${path} exists`)
  }
  const checkEnv = (where: string, vars: Array<{ name: string, value?: string }>) => {
    t.same(vars.map(v => v.name).filter(name => !envVariables.includes(name)), [], `${where}: every variable is one the service reads`)
    const values = Object.fromEntries(vars.map(v => [v.name, v.value ?? 'ak_from_secret']))
    const env = loadEnv(values)
    t.equal(env.HTTP_PORT, 3000, `${where}: the values are valid configuration`)
    return env
  }
  const checkConfigMap = (
    where: string,
    mountPath: string,
    files: Record<string, string>,
    configPath: string | undefined
  ) => {
    t.equal(configPath, join(mountPath, 'config.json'), `${where}: the config map is where TELECONSULTATION_SERVICE_CONFIG_PATH points`)
    t.ok(resolveServiceConfig(JSON.parse(files['config.json']), 'miauserid'), `${where}: the config map is a valid configuration file`)
  }

  const [configMap, deployment, service] = parseAllDocuments(readFileSync(join(root, 'docs/deploy/kubernetes.yaml'), 'utf8')).map(doc => doc.toJS())
  t.same([configMap.kind, deployment.kind, service.kind], ['ConfigMap', 'Deployment', 'Service'])
  const pod = deployment.spec.template.spec
  const container = pod.containers[0]
  t.match(container.image, `:${pkg.version}`)
  const env = checkEnv('kubernetes.yaml', container.env)
  t.same(container.env.find((v: { name: string }) => v.name === 'BANDYER_API_SECRET_KEY').valueFrom.secretKeyRef, { name: 'teleconsultation-kaleyra', key: 'api-key' }, 'the API key comes from a Secret')
  t.equal(container.ports[0].containerPort, env.HTTP_PORT)
  t.same([container.livenessProbe.httpGet.path, container.readinessProbe.httpGet.path, container.startupProbe.httpGet.path], ['/-/healthz', '/-/ready', '/-/healthz'])
  t.ok(container.readinessProbe.timeoutSeconds * 1000 > env.STATUS_CHECK_TIMEOUT_MS, 'the readiness probe waits longer than one dependency check')
  t.ok(pod.terminationGracePeriodSeconds > env.WAIT_BEFORE_SERVER_CLOSE_SEC + env.KALEYRA_TIMEOUT_MS / 1000, 'the grace period covers the shutdown delay and a request')
  t.equal(pod.securityContext.runAsNonRoot, true)
  t.ok(container.resources.requests.memory && container.resources.limits.memory)
  const mount = container.volumeMounts[0]
  t.equal(pod.volumes.find((v: { name: string }) => v.name === mount.name).configMap.name, configMap.metadata.name)
  checkConfigMap('kubernetes.yaml', mount.mountPath, configMap.data, env.TELECONSULTATION_SERVICE_CONFIG_PATH)
  t.equal(service.spec.ports[0].targetPort, container.ports[0].name)

  const item = JSON.parse(readFileSync(join(root, 'docs/deploy/marketplace-item.json'), 'utf8'))
  const plugin = Object.values(item.resources.services)[0] as MarketplacePlugin
  t.equal(plugin.dockerImage.split(':').at(-1), pkg.version)
  t.equal(item.version.name, pkg.version)
  const itemEnv = checkEnv('marketplace-item.json', plugin.defaultEnvironmentVariables)
  t.match(plugin.defaultEnvironmentVariables.find(v => v.name === 'BANDYER_API_SECRET_KEY'), { valueType: 'secret' })
  t.equal(plugin.containerPorts[0].to, itemEnv.HTTP_PORT)
  t.same([plugin.defaultProbes.liveness.path, plugin.defaultProbes.readiness.path], ['/-/healthz', '/-/ready'])
  t.equal(plugin.defaultLogParser, 'mia-json')
  t.equal(plugin.defaultMonitoring.endpoints[0].path, '/-/metrics')
  t.equal(plugin.defaultDocumentationPath, '/documentation/json')
  const itemMap = plugin.defaultConfigMaps[0]
  checkConfigMap('marketplace-item.json', itemMap.mountPath, Object.fromEntries(itemMap.files.map(f => [f.name, f.content])), itemEnv.TELECONSULTATION_SERVICE_CONFIG_PATH)
})

t.test('docs/configuration.md documents every environment variable, with its default', async t => {
  const doc = readFileSync(join(root, 'docs/configuration.md'), 'utf8')
  t.same(envVariables.filter(name => !doc.includes(`\`${name}\``)), [], 'none missing')
  // Table rows: | `NAME` | default | description |
  const documented = new Map([...doc.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]+) \|/gm)].map(m => [m[1], m[2].trim()]))
  for (const name of envVariables) {
    const { default: value } = EnvSchema.properties[name as keyof typeof EnvSchema.properties] as { default?: unknown }
    const expected = value === undefined ? undefined : value === '' ? "`''`" : `\`${String(value)}\``
    const cell = documented.get(name)
    if (expected !== undefined) t.equal(cell, expected, `${name}: the documented default is the real one`)
    else t.ok(cell !== undefined && !cell.startsWith('`'), `${name}: documented without a default (${String(cell)})`)
  }
})
