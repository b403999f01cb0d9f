import t from 'tap'
import { createMemoryTeleconsultationStore, createMemoryUserMapStore } from '../../src/store/memory.js'
import type { TeleconsultationData } from '../../src/store/types.js'

// The memory store hands out its records as they are stored (no copy per read): they must be
// values nobody can change, and what a caller keeps of its own input must not reach the store.

const data = (): TeleconsultationData => ({
  bandyerRoomId: 'room-1',
  participantsNumber: 2,
  participants: [
    { userId: 'doctor-1', userBandyerId: 'k-doctor-1', accessLinkURL: 'https://link/1', groups: ['doctor'] },
    { userId: 'patient-1', userBandyerId: 'k-patient-1', accessLinkURL: 'https://link/2' }
  ],
  teleconsultationState: 'ROOM_CREATED',
  startDate: '2026-12-03T10:00:00.000Z',
  endDate: '2026-12-03T11:00:00.000Z',
  pendingRoomDeletions: []
})

t.test('a record read cannot be changed, at any depth; the store keeps its value', async t => {
  const store = createMemoryTeleconsultationStore()
  const { id } = await store.insert(data())
  const read = await store.get(id)
  if (read === null) throw new Error('inserted record not found')
  t.throws(() => { read.teleconsultationState = 'WAITING_FOR_PARTICIPANTS' }, TypeError)
  t.throws(() => { read.participants[0].accessLinkURL = null }, TypeError)
  t.throws(() => { read.participants[0].groups?.push('admin') }, TypeError)
  t.throws(() => { read.pendingRoomDeletions.push('room-0') }, TypeError)
  t.same(await store.get(id), { ...data(), id, version: 1 })
})

t.test('what the caller keeps of its input or its changes does not reach the store', async t => {
  const store = createMemoryTeleconsultationStore()
  const input = data()
  const { id } = await store.insert(input)
  input.participants[0].accessLinkURL = 'https://elsewhere'
  input.pendingRoomDeletions.push('room-x')
  const changes = { pendingRoomDeletions: ['room-0'] }
  const updated = await store.update(id, 1, changes)
  changes.pendingRoomDeletions.push('room-y')
  t.same(updated.pendingRoomDeletions, ['room-0'])
  t.same(await store.get(id), { ...data(), pendingRoomDeletions: ['room-0'], id, version: 2 })
  t.throws(() => { updated.participants[1].fullName = 'someone' }, TypeError, 'what an update left unchanged is frozen too')
})

t.test('user-map rows are frozen values as well', async t => {
  const users = createMemoryUserMapStore()
  const input = { receivedUserId: 'u-1', bandyerId: 'k-1', groups: ['patient'] }
  await users.insert(input)
  input.groups.push('doctor')
  const row = await users.find('u-1')
  t.same(row, { receivedUserId: 'u-1', bandyerId: 'k-1', groups: ['patient'] })
  t.throws(() => { row?.groups?.push('admin') }, TypeError)
})
