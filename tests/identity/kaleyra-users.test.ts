import t from 'tap'
import { KALEYRA_ID_REGEX } from '../../src/kaleyra/model.js'
import { kaleyraUserIdFor } from '../helpers/kaleyra-ids.js'
import { extractUserId, parseGroups } from '../../src/identity/user-id-path.js'

t.test('Kaleyra user ids are deterministic, valid, distinct and carry no personal data', async t => {
  const ids = ['doctor-1', 'Doctor-1', 'mario.rossi@example.org', 'ünïcødé id with spaces', 'x'.repeat(5000), '']
  const derived = ids.map(kaleyraUserIdFor)
  t.same(derived, ids.map(kaleyraUserIdFor), 'same input, same id')
  t.equal(new Set(derived).size, ids.length, 'different inputs, different ids')
  for (const id of derived) {
    t.match(id, KALEYRA_ID_REGEX)
    t.ok(id.length <= 128)
  }
  t.notOk(derived[2].includes('rossi'))
})

t.test('userIdPathInRequest steps', async t => {
  const request = {
    headers: { miauserid: 'u1', props: JSON.stringify({ ids: ['a', 'b'], n: 7 }) }
  }
  t.equal(extractUserId(request, [{ from: 'object', extract: 'headers' }, { from: 'object', extract: 'miauserid' }]), 'u1')
  t.equal(extractUserId(request, [{ from: 'object', extract: 'headers' }, { from: 'object', extract: 'props' }, { from: 'json', extract: 'ids' }, { from: 'array', extract: 1 }]), 'b')
  t.equal(extractUserId(request, [{ from: 'object', extract: 'headers' }, { from: 'object', extract: 'props' }, { from: 'json', extract: 'n' }]), '7')
  t.equal(extractUserId(request, [{ from: 'object', extract: 'headers' }, { from: 'object', extract: 'missing' }]), null)
  t.equal(extractUserId(request, [{ from: 'object', extract: 'headers' }, { from: 'json', extract: 'x' }]), null, 'json on an object')
  t.equal(extractUserId(request, [{ from: 'array', extract: 0 }]), null, 'array on an object')
  t.equal(extractUserId({ headers: { miauserid: '   ' } }, [{ from: 'object', extract: 'headers' }, { from: 'object', extract: 'miauserid' }]), null, 'blank ids are no ids')
})

t.test('groups header', async t => {
  t.same(parseGroups('doctor, admin,,'), ['doctor', 'admin'])
  t.same(parseGroups(undefined), [])
  t.same(parseGroups(['a', 'b,c']), ['a', 'b', 'c'])
})
