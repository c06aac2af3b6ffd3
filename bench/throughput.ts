// QoS 1 and QoS 0 throughput of every target with the same publisher and payloads: how fast the
// broker acknowledges (at QoS 0: takes in, see publisher.ts), and, where the target stores
// telemetry, how fast it all reaches InfluxDB; CPU per message of the target's processes.
import { cpuSeconds, say, sleep } from './proc.js'
import { publish } from './publish.js'
import { type BenchTarget, startTarget, type TargetContext, type TargetName } from './targets/index.js'

export interface ThroughputRun {
  readonly target: TargetName
  readonly qos: 0 | 1
  readonly messages: number
  readonly errors: number
  /** Messages per second, publisher start to last acknowledgement. */
  readonly ackRate: number
  /** Messages per second, publisher start to the last point confirmed in InfluxDB. */
  readonly endToEndRate: number | null
  /** Points InfluxDB held for this run, if the target stores telemetry. */
  readonly stored: number | null
  readonly cpuMicrosPerMessage: number
}

export interface ThroughputOptions {
  readonly targets: readonly TargetName[]
  readonly messages: number
  readonly devices: number
  readonly window: number
}

/** How long after the last publish a target may take to have everything in InfluxDB. */
export const storeTimeoutMs = 180_000

async function measure(target: BenchTarget, qos: 0 | 1, options: ThroughputOptions): Promise<ThroughputRun> {
  const before = (await target.stored?.()) ?? 0
  const cpuBefore = target.pids().reduce((sum, pid) => sum + cpuSeconds(pid), 0)
  const startedAt = performance.now()
  const result = await publish({
    url: target.url,
    devices: target.devices,
    mode: 'burst',
    qos,
    total: options.messages,
    window: options.window,
  })
  let endToEndMs: number | null = null
  let stored: number | null = null
  if (target.stored !== undefined) {
    const deadline = performance.now() + storeTimeoutMs
    for (;;) {
      stored = (await target.stored()) - before
      if (stored >= result.sent) {
        endToEndMs = performance.now() - startedAt
        break
      }
      if (performance.now() > deadline) break
      await sleep(200)
    }
  }
  const cpu = target.pids().reduce((sum, pid) => sum + cpuSeconds(pid), 0) - cpuBefore
  return {
    target: target.name,
    qos,
    messages: result.sent,
    errors: result.errors,
    ackRate: result.sent / (result.elapsedMs / 1000),
    endToEndRate: endToEndMs === null ? null : result.sent / (endToEndMs / 1000),
    stored,
    cpuMicrosPerMessage: (cpu * 1e6) / result.sent,
  }
}

/** One round: each target started fresh, warmed up, then QoS 1 and QoS 0 runs. */
export async function throughputRound(
  round: number,
  options: ThroughputOptions,
  context: (target: TargetName) => TargetContext,
): Promise<ThroughputRun[]> {
  const runs: ThroughputRun[] = []
  // Each run's readings are dated from its start, one ms per message of a device; waiting that
  // long between runs keeps every (device, ts) distinct, which InfluxDB needs to count points.
  const gapMs = Math.ceil(options.messages / options.devices) + 1_100
  for (const name of options.targets) {
    const target = await startTarget(name, options.devices, context(name))
    try {
      say(`round ${round}: ${name}: warm-up…`)
      await measure(target, 1, { ...options, messages: Math.min(10_000, options.messages) })
      for (const qos of [1, 0] as const) {
        await sleep(gapMs)
        say(`round ${round}: ${name}: ${options.messages.toLocaleString('en')} QoS ${qos} messages…`)
        const run = await measure(target, qos, options)
        say(
          `round ${round}: ${name} QoS ${qos}: ${Math.round(run.ackRate).toLocaleString('en')}/s taken in` +
            (run.endToEndRate === null
              ? ''
              : `, ${Math.round(run.endToEndRate).toLocaleString('en')}/s into InfluxDB (${run.stored}/${run.messages})`) +
            `, ${run.cpuMicrosPerMessage.toFixed(0)} µs CPU/message`,
        )
        runs.push(run)
      }
    } finally {
      await target.stop()
    }
  }
  return runs
}
