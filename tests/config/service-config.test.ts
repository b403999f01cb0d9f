import t from 'tap'
import { fileURLToPath } from 'node:url'
import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadServiceConfig, resolveServiceConfig } from '../../src/config/service-config.js'

const fixture = (name: string): string => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))

t.test('no file: the 2.x default', async t => {
  const config = loadServiceConfig(undefined, 'miauserid')
  t.same(config.privileges.plus.groups, ['doctor'])
  t.same(config.privileges.basic.groups, ['patient'])
  t.ok(Object.values(config.privileges.basic.tools).every(v => v === true))
  t.equal(Object.keys(config.privileges.plus.tools).length, 8)
  t.same(config.theme.light, { primaryColor: '#ffffff', accentColor: '#480ca8' })
  t.same(config.customUserId, { source: '_id', target: 'authUserId' })
  t.same(config.userIdPathInRequest, [{ from: 'object', extract: 'headers' }, { from: 'object', extract: 'miauserid' }])
})

t.test('the default user-id path follows USERID_HEADER_KEY (lower-cased like Node headers)', async t => {
  t.same(loadServiceConfig(undefined, 'X-User').userIdPathInRequest[1], { from: 'object', extract: 'x-user' })
})

t.test('a full 1.x/2.x file is read; missing tools default to enabled', async t => {
  const config = loadServiceConfig(fixture('full-config.json'), 'miauserid')
  t.same(config.privileges.plus.groups, ['doctor', 'nurse'])
  t.equal(config.privileges.plus.tools.chat, true)
  t.equal(config.privileges.basic.tools.screen_sharing, false)
  t.same(config.groupsWithBackgroundList, ['doctor'])
  t.equal(config.userIdPathInRequest.length, 3)
  t.same(config.customUserId, { source: 'email', target: 'sub' })
})

t.test('invalid files are refused naming the key', async t => {
  t.throws(() => loadServiceConfig(fixture('bad-group.json'), 'miauserid'), { name: 'ConfigError', message: /privileges\.basic\.groups/ })
  t.throws(() => loadServiceConfig(fixture('missing.json'), 'miauserid'), { name: 'ConfigError', message: /cannot read .*missing\.json \(ENOENT\)/ })
  t.throws(() => resolveServiceConfig({}, 'miauserid'), { message: /privileges/ })
  t.throws(() => resolveServiceConfig({ privileges: { basic: { groups: [] }, plus: { groups: ['d'], tools: { chat: 'yes' } } } }, 'miauserid'), { message: /privileges\.plus\.tools\.chat/ })
  t.throws(() => resolveServiceConfig({ privileges: { basic: { groups: [] }, plus: { groups: [] } }, userIdPathInRequest: [{ from: 'json', extract: 'x' }] }, 'miauserid'), { message: /userIdPathInRequest\.0\.from must be "object"/ })
  t.throws(() => resolveServiceConfig({ privileges: { basic: { groups: [] }, plus: { groups: [] } }, userIdPathInRequest: [{ from: 'xml', extract: 'x' }] }, 'miauserid'), { message: /userIdPathInRequest\.0\.from/ })
})

t.test('a JSON syntax error names its line and column', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'tcs-config-'))
  const path = join(dir, 'config.json')
  writeFileSync(path, '{\n  "privileges": {\n    "basic": { "groups": ["patient"], },\n  }\n}\n')
  t.throws(() => loadServiceConfig(path, 'miauserid'), { name: 'ConfigError', message: /is not valid JSON at line 3 column 39$/ })
  writeFileSync(path, '{ "privileges": ')
  t.throws(() => loadServiceConfig(path, 'miauserid'), { name: 'ConfigError', message: /is not valid JSON at line 1 column 17$/ })
})

t.test('unknown keys give one warning naming them; the 1.x keys environment and mode are silent', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'tcs-config-'))
  const path = join(dir, 'config.json')
  writeFileSync(path, JSON.stringify({
    environment: 'sandbox',
    mode: 'production',
    privilges: {},
    privileges: { basic: { groups: ['patient'], tools: { chatt: false } }, plus: { groups: ['doctor'], tools: { whiteboard: false } } }
  }))
  const warnings: string[] = []
  const config = loadServiceConfig(path, 'miauserid', message => warnings.push(message))
  t.equal(config.privileges.plus.tools.whiteboard, false)
  t.equal(warnings.length, 1, 'one warning')
  t.match(warnings[0], /unknown keys ignored: privilges, privileges\.basic\.tools\.chatt \(allowed root keys: privileges, .*; tools: chat, /)
  t.notMatch(warnings[0], /ignored:[^(]*(environment|mode)/)
  t.notOk(warnings[0].includes('\n'), 'one line')

  writeFileSync(path, JSON.stringify({ environment: 'sandbox', mode: 'x', privileges: { basic: { groups: [] }, plus: { groups: [] } } }))
  const none: string[] = []
  loadServiceConfig(path, 'miauserid', message => none.push(message))
  t.same(none, [], 'a 1.x file is accepted silently')
})
