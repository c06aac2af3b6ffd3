// Fixed loads (issue 6): every device publishes one QoS 1 reading a second. City: 2,000 devices;
// province: 20,000 devices, or as many as one process may hold open here. Measured over a
// 20 s window after 5 s of steady load: CPU of the target (and of influxd, apart), peak memory,
// the rate acknowledged and stored, and for Siteward the alert latency meanwhile.
import { execFileSync } from 'node:child_process'
import { connectAlertProbe } from './alert-latency.js'
import { cpuSeconds, percentile, rssBytes, say, sleep } from './proc.js'
import { startPublishers } from './publish.js'
import { type EngineSample, startTarget, type TargetContext, type TargetName } from './targets/index.js'

export interface LoadRun {
  readonly load: string
  readonly target: TargetName
  readonly devices: number
  readonly offeredRate: number
  readonly connectSeconds: number
  /** What the publishers sent a second (below the offered rate: the load generator could not keep up). */
  readonly sentRate: number
  readonly ackedRate: number
  readonly storedRate: number | null
  /** CPU of the target's processes, in % of one core. */
  readonly cpuPercent: number
  readonly influxdCpuPercent: number
  readonly peakRssMiB: number
  readonly alertProbes: number | null
  readonly alertLatencies: number | null
  readonly alertP50Ms: number | null
  readonly alertP99Ms: number | null
  /** Siteward: CPU µs per accepted reading, by role's thread, over the window. */
  readonly cpuUsPerReadingByRole: Readonly<Record<string, number>> | null
  /** Siteward's own counters over the window, per second: accepted, refused, repeats, and points stored. */
  readonly engineRates: {
    readonly accepted: number
    readonly rejected: number
    readonly duplicates: number
    readonly written: number
  } | null
  /** Siteward: log bytes each consumer had still to read, at the window's start and end (flat = keeping up). */
  readonly logDepthBytes: {
    readonly start: Readonly<Record<string, number>>
    readonly end: Readonly<Record<string, number>>
  } | null
  /** Siteward: the log's group commits over the window, and the appends waiting for one at its end. */
  readonly logCommits: {
    readonly perSecond: number
    readonly recordsEach: number
    readonly meanMs: number
    readonly unacknowledgedAtEnd: number
  } | null
}

const warmMs = 5_000
const windowMs = 20_000

export async function measureLoad(
  load: { readonly name: string; readonly devices: number },
  name: TargetName,
  context: TargetContext,
  influxdPid: number,
): Promise<LoadRun> {
  const target = await startTarget(name, load.devices, context)
  pinToCpus(target.pids())
  try {
    say(`${load.name} load: ${name}: connecting ${load.devices.toLocaleString('en')} devices…`)
    const probe = target.probe === undefined ? null : await connectAlertProbe(target)
    const connectStartedAt = performance.now()
    const publishers = startPublishers({
      url: target.url,
      devices: target.devices,
      mode: 'paced',
      qos: 1,
      ratePerSecond: load.devices,
      durationMs: warmMs + windowMs + 2_000,
    })
    await publishers.connected
    const connectSeconds = (performance.now() - connectStartedAt) / 1000
    say(`${load.name} load: ${name}: connected in ${connectSeconds.toFixed(1)} s; measuring…`)
    await sleep(warmMs)
    const cpu = () => target.pids().reduce((sum, pid) => sum + cpuSeconds(pid), 0)
    const cpuBefore = cpu()
    const influxBefore = cpuSeconds(influxdPid)
    const storedBefore = (await target.stored?.()) ?? null
    const engineBefore = (await target.engineSample?.()) ?? null
    const windowStartedAt = performance.now()
    let peakRss = 0
    const sampler = setInterval(() => {
      peakRss = Math.max(
        peakRss,
        target.pids().reduce((sum, pid) => sum + rssBytes(pid), 0),
      )
    }, 500)
    const latency = probe?.run(windowMs - 2_000) ?? null
    await sleep(windowMs)
    const seconds = (performance.now() - windowStartedAt) / 1000
    clearInterval(sampler)
    const cpuPercent = ((cpu() - cpuBefore) / seconds) * 100
    const influxdCpuPercent = ((cpuSeconds(influxdPid) - influxBefore) / seconds) * 100
    const storedAfter = (await target.stored?.()) ?? null
    const engineAfter = (await target.engineSample?.()) ?? null
    const result = await publishers.result
    const probed = await latency
    const run: LoadRun = {
      load: load.name,
      target: name,
      devices: load.devices,
      offeredRate: load.devices,
      connectSeconds,
      sentRate: result.sent / (result.elapsedMs / 1000),
      ackedRate: result.acked / (result.elapsedMs / 1000),
      storedRate:
        storedBefore === null || storedAfter === null ? null : (storedAfter - storedBefore) / seconds,
      cpuPercent,
      influxdCpuPercent,
      peakRssMiB: peakRss / 1024 ** 2,
      alertProbes: probed?.probes ?? null,
      alertLatencies: probed?.latencies.length ?? null,
      alertP50Ms: probed === null ? null : percentile(probed.latencies, 50),
      alertP99Ms: probed === null ? null : percentile(probed.latencies, 99),
      cpuUsPerReadingByRole:
        engineBefore === null || engineAfter === null ? null : cpuPerReading(engineBefore, engineAfter),
      engineRates:
        engineBefore === null || engineAfter === null
          ? null
          : {
              accepted: (engineAfter.accepted - engineBefore.accepted) / seconds,
              rejected: (engineAfter.rejected - engineBefore.rejected) / seconds,
              duplicates: (engineAfter.duplicates - engineBefore.duplicates) / seconds,
              written: (engineAfter.written - engineBefore.written) / seconds,
            },
      logDepthBytes:
        engineBefore === null || engineAfter === null
          ? null
          : { start: engineBefore.logDepthBytes, end: engineAfter.logDepthBytes },
      logCommits:
        engineBefore === null || engineAfter === null ? null : logCommits(engineBefore, engineAfter, seconds),
    }
    say(
      `${load.name} load: ${name}: ${run.cpuPercent.toFixed(0)} % of a core, ${run.peakRssMiB.toFixed(0)} MiB, ` +
        `${Math.round(run.sentRate).toLocaleString('en')}/s sent, ${Math.round(run.ackedRate).toLocaleString('en')}/s acked` +
        (run.storedRate === null ? '' : `, ${Math.round(run.storedRate).toLocaleString('en')}/s stored`) +
        (run.alertP99Ms === null
          ? ''
          : `, alert p50 ${run.alertP50Ms?.toFixed(1)} ms p99 ${run.alertP99Ms.toFixed(1)} ms`) +
        (run.engineRates === null
          ? ''
          : `; the engine's counters: ${rate(run.engineRates.accepted)}/s accepted, ${rate(run.engineRates.rejected)}/s refused, ${rate(run.engineRates.duplicates)}/s repeats, ${rate(run.engineRates.written)}/s shipped`) +
        (run.logDepthBytes === null
          ? ''
          : `, log depth ${depths(run.logDepthBytes.start)} → ${depths(run.logDepthBytes.end)}`) +
        (run.logCommits === null
          ? ''
          : `; log commits ${rate(run.logCommits.perSecond)}/s of ${run.logCommits.recordsEach.toFixed(1)} records, ${run.logCommits.meanMs.toFixed(2)} ms each, ${rate(run.logCommits.unacknowledgedAtEnd)} waiting at the end`),
    )
    return run
  } finally {
    await target.stop()
  }
}

/**
 * BENCH_ENGINE_CPUS=0 (a taskset list): the target's threads run on those cores only, the
 * publishers and influxd anywhere; to compare the engine on one core with it on two.
 */
export const engineCpus = process.env.BENCH_ENGINE_CPUS ?? null

function pinToCpus(pids: readonly number[]): void {
  if (engineCpus === null) return
  for (const pid of pids)
    execFileSync('taskset', ['-a', '-p', '-c', engineCpus, String(pid)], { stdio: 'ignore' })
}

const rate = (value: number) => Math.round(value).toLocaleString('en')

const depths = (bytes: Readonly<Record<string, number>>) =>
  Object.entries(bytes)
    .map(([consumer, value]) => `${consumer} ${(value / 1024 ** 2).toFixed(1)} MiB`)
    .join(', ')

function logCommits(before: EngineSample, after: EngineSample, seconds: number): LoadRun['logCommits'] {
  const commits = after.commits - before.commits
  return {
    perSecond: commits / seconds,
    recordsEach: (after.committedRecords - before.committedRecords) / commits,
    meanMs: ((after.commitSeconds - before.commitSeconds) / commits) * 1000,
    unacknowledgedAtEnd: after.unacknowledged,
  }
}

function cpuPerReading(before: EngineSample, after: EngineSample): Record<string, number> {
  // A saturated edge does not answer, and its counter is missing: then per reading shipped.
  const accepted = after.accepted - before.accepted
  const readings = Number.isFinite(accepted) ? accepted : after.written - before.written
  const byRole: Record<string, number> = {}
  for (const [role, seconds] of Object.entries(after.secondsByRole))
    byRole[role] = ((seconds - (before.secondsByRole[role] ?? 0)) / readings) * 1e6
  return byRole
}
