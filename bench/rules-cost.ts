// `node --import tsx bench/rules-cost.ts [DEVICES] [ROUNDS]`: what the rule pipeline alone costs a
// crane reading, with the seed catalogue (seeds/rules) and no store: µs per reading and bytes
// allocated per reading, over DEVICES cranes (2,000) sending ROUNDS readings each (50), as the
// worker thread runs it. For the worker's share of the fixed loads (BENCHMARKS.md, issue 14).
import { PerformanceObserver } from 'node:perf_hooks'
import { Subject } from 'rxjs'
import { loadRuleCatalogue } from '../app/rule-catalogue.js'
import type { Reading } from '../domain/reading.js'
import { evaluateRules } from '../rules/pipeline.js'
import { RuleStates } from '../rules/rule-states.js'
import { craneFields } from './publisher.js'

const [devicesArg, roundsArg] = process.argv.slice(2)
const devices = Number(devicesArg ?? 2_000)
const rounds = Number(roundsArg ?? 50)
if (!(devices > 0 && rounds > 0)) {
  process.stderr.write('usage: node --import tsx bench/rules-cost.ts [DEVICES] [ROUNDS]\n')
  process.exit(2)
}

const rules = loadRuleCatalogue('seeds/rules')
const readings = new Subject<Reading>()
let signals = 0
readings
  .pipe(
    evaluateRules(rules, {
      pitContext: () => ({}) as never,
      onKeyError: (key, error) => process.stderr.write(`${key}: ${String(error)}\n`),
      lateAfterMs: 60_000,
      states: new RuleStates(),
    }),
  )
  .subscribe(() => {
    signals += 1
  })

/** The bench publisher's reading (bench/publisher.ts), as the projector hands it to the rules. */
const reading = (device: number, seq: number, ts: number): Reading =>
  ({
    siteId: 'BENCH',
    deviceId: `TC-${device}`,
    receivedAt: ts,
    source: 'mqtt',
    kind: 'crane',
    channel: 'telemetry',
    ts,
    data: craneFields(ts, seq),
  }) as Reading

const run = (count: number) => {
  const start = Date.now()
  for (let seq = 0; seq < count; seq++)
    for (let device = 0; device < devices; device++) readings.next(reading(device, seq, start + seq * 1000))
}

run(5) // warm up: every key's state exists, the code is optimised
let gcMs = 0
let gcs = 0
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMs += entry.duration
    gcs += 1
  }
})
gcObserver.observe({ entryTypes: ['gc'] })
const cpuBefore = process.cpuUsage()
const startedAt = performance.now()
run(rounds)
const elapsedMs = performance.now() - startedAt
const cpu = process.cpuUsage(cpuBefore)
await new Promise((resolve) => setTimeout(resolve, 50)) // the last GC entries arrive
gcObserver.disconnect()
const total = devices * rounds
const us = (ms: number) => ((ms * 1000) / total).toFixed(1)
process.stdout.write(
  `${total.toLocaleString('en')} crane readings of ${devices.toLocaleString('en')} cranes through ${rules.length} rules: ` +
    `${us(elapsedMs)} µs a reading, of which GC pauses ${us(gcMs)} µs (${gcs} collections); ` +
    `CPU ${us((cpu.user + cpu.system) / 1000)} µs a reading with V8's helper threads; ${signals} signals\n`,
)
