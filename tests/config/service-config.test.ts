import t from 'tap'
import { fileURLToPath } from 'node:url'
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
