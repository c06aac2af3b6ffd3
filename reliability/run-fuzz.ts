// `npm run reliability:fuzz`: the full fuzz run for RELIABILITY.md (FUZZ_PACKETS, default 100,000).
import { fuzzHarness } from './fuzz-harness.js'

const packets = Number(process.env.FUZZ_PACKETS ?? 100_000)
const say = (text: string) => process.stderr.write(`[fuzz] ${text}\n`)
say(`sending ${packets} malformed or mutated packets while 5 valid devices publish`)
const result = await fuzzHarness({ packets, seed: Number(process.env.FUZZ_SEED ?? 1), say })
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
const ok =
  !result.crashed &&
  result.validStored === result.validAcked &&
  result.validDisconnects === 0 &&
  result.exitCode === 0
say(ok ? 'passed: no crash, nothing lost, valid devices never cut off' : 'FAILED')
process.exitCode = ok ? 0 : 1
