// The sessions list's order (Kaleyra's is not documented): oldest first, undated ones last.
import t from 'tap'
import { loadConfig } from '../../src/config/index.js'
import type { KaleyraClient } from '../../src/kaleyra/client.js'
import type { KaleyraSession } from '../../src/kaleyra/model.js'
import { createRecordingService } from '../../src/recordings/service.js'
import { createMemoryStores } from '../../src/store/memory.js'
import type { RequestContext } from '../../src/upstream/request-context.js'

t.test('sessions are listed oldest first by start date, those without one last in Kaleyra\'s order', async t => {
  const listed: KaleyraSession[] = [
    { sessionId: 's_undated_1', roomId: 'room_1', startDate: null, endDate: null },
    { sessionId: 's_late', roomId: 'room_1', startDate: '2026-12-02T11:00:00Z', endDate: '2026-12-02T11:20:00Z' },
    { sessionId: 's_undated_2', roomId: 'room_1', startDate: null, endDate: null },
    { sessionId: 's_early', roomId: 'room_1', startDate: '2026-12-02T10:00:00.000Z', endDate: '2026-12-02T10:05:00Z' }
  ]
  const asked: string[] = []
  const kaleyra = {
    listSessions: async (roomId: string) => {
      asked.push(roomId)
      return listed.map(s => ({ ...s }))
    }
  } as unknown as KaleyraClient
  const { teleconsultations: store } = createMemoryStores()
  const record = await store.insert({
    bandyerRoomId: 'room_1',
    participantsNumber: 2,
    participants: [{ userId: 'patient-1', userBandyerId: 'tcs-p', accessLinkURL: null }, { userId: 'doctor-1', userBandyerId: 'tcs-d', accessLinkURL: null }],
    teleconsultationState: 'ROOM_CREATED',
    startDate: '2026-12-02T10:00:00.000Z',
    endDate: '2026-12-02T12:00:00.000Z',
    pendingRoomDeletions: [],
    readySessions: [{ sessionId: 's_late', recording: true }]
  })
  const config = loadConfig({ BANDYER_BASE_URL: 'http://127.0.0.1:1', BANDYER_API_SECRET_KEY: 'ak_test', DEFAULT_RECORDING_TYPE: 'manual', KALEYRA_WEBHOOKS: 'true' })
  const recordings = createRecordingService({ config, kaleyra, store })
  const ctx = { callerId: 'patient-1' } as unknown as RequestContext
  const sessions = await recordings.sessions(record.id, ctx)
  t.same(sessions.map(s => s.sessionId), ['s_early', 's_late', 's_undated_1', 's_undated_2'])
  t.same(sessions[1], { sessionId: 's_late', startDate: '2026-12-02T11:00:00Z', endDate: '2026-12-02T11:20:00Z', recording: true, transcription: false })
  t.same(asked, ['room_1'], 'one Kaleyra call, however many sessions')
})
