// The fuzzer as a process of its own, so that its busy loop never delays the valid devices the
// harness runs (they would look stalled when only the harness was). Input: FUZZ_JOB (JSON) in the
// environment; output: one JSON line per progress step and a last `report` line on stdout.
import { type FuzzTarget, runFuzz, type Strategy } from './mqtt-fuzz.js'

const job = JSON.parse(process.env.FUZZ_JOB ?? '{}') as {
  target: FuzzTarget
  packets: number
  concurrency: number
  seed: number
  only?: Strategy[]
}
const report = await runFuzz(job.target, {
  packets: job.packets,
  concurrency: job.concurrency,
  seed: job.seed,
  ...(job.only === undefined ? {} : { only: job.only }),
  onProgress: (progress) => process.stdout.write(`${JSON.stringify({ progress })}\n`),
})
process.stdout.write(`${JSON.stringify({ report })}\n`)
