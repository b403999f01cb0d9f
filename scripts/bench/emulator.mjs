// The Kaleyra emulator (compiled) in a process of its own, so that the service's CPU and memory
// figures do not include it. Prints `{"url": ...}` once listening; faults and sessions are set
// through its /_emulator control routes.
import { startKaleyraEmulator } from '../../dist/emulator/index.js'

const emulator = await startKaleyraEmulator({ apiKey: process.env.BENCH_API_KEY ?? 'ak_bench' })
process.stdout.write(JSON.stringify({ url: emulator.url }) + '\n')
process.once('SIGTERM', () => { emulator.close().then(() => process.exit(0), () => process.exit(1)) })
