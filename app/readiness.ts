import type { ReadinessCheck } from '../api/services.js'
import type { TelemetryStore } from '../domain/ports.js'
import type { Backpressure } from '../ingest/backpressure.js'
import type { Broker } from '../ingest/broker.js'
import type { SegmentLog } from '../storage/log/segment-log.js'
import type { SqliteDatabase } from '../storage/sqlite/database.js'
import type { TelemetryShipper } from '../storage/telemetry/telemetry-shipper.js'
import type { ControlPlane, PartName } from './roles/control-plane.js'
import { cpuSecondsOf, threadCpuSeconds } from './roles/thread-cpu.js'

/**
 * `/readyz` (CONTRACT §5.1): the broker listens, the write-ahead log is healthy and not full, the
 * SQLite store takes a write lock, and the telemetry store is reachable or spooling safely. Each
 * role checks its own part; the API gathers them (edge, api, worker, shipper order: mqtt, wal,
 * store, telemetry).
 */
export async function edgeReadiness(parts: {
  broker: Broker | null
  log: SegmentLog
  backpressure: Backpressure
}): Promise<ReadinessCheck[]> {
  const { broker, log, backpressure } = parts
  const walFailure = log.failed
  const full = backpressure.decide().kind === 'refuse'
  return [
    {
      name: 'mqtt',
      ok: broker?.listening ?? false,
      detail: broker?.listening ? `listening on ${broker.port}` : 'not listening',
    },
    {
      name: 'wal',
      ok: walFailure === null && !full,
      detail:
        walFailure === null
          ? `write-ahead log ${full ? 'full' : 'healthy'} (${log.diskBytes} bytes on disk, ${backpressure.describe()})`
          : `write-ahead log failed, refusing publishes: ${walFailure.message}`,
    },
  ]
}

export async function storeReadiness(db: SqliteDatabase): Promise<ReadinessCheck[]> {
  try {
    db.transaction(() => db.prepare('SELECT count(*) FROM log_cursors').get()).immediate()
    return [{ name: 'store', ok: true, detail: 'SQLite store writable' }]
  } catch (error) {
    return [{ name: 'store', ok: false, detail: `SQLite store not writable: ${(error as Error).message}` }]
  }
}

export async function shipperReadiness(parts: {
  shipper: TelemetryShipper | null
  telemetry: TelemetryStore
}): Promise<ReadinessCheck[]> {
  const { shipper, telemetry } = parts
  const spooling = shipper?.spooling ?? false
  const reachable = await telemetry.ping()
  return [
    {
      name: 'telemetry',
      ok: true, // reachable, or spooling safely in the write-ahead log (CONTRACT §5.1)
      detail:
        reachable && !spooling
          ? `${telemetry.name} reachable`
          : `${telemetry.name} unreachable; spooling in the write-ahead log (lag ${Math.round(shipper?.lagSeconds() ?? 0)} s)`,
    },
  ]
}

/** The API's own checks and those of the roles it runs with, asked over the control plane. */
export async function gatherReadiness(
  plane: ControlPlane,
  peers: readonly PartName[],
  own: () => Promise<readonly ReadinessCheck[]>,
): Promise<ReadinessCheck[]> {
  const [replies, mine] = await Promise.all([plane.ask('readiness', peers), own()])
  const of = (part: PartName): readonly ReadinessCheck[] => {
    if (!peers.includes(part)) return []
    const reply = replies.get(part)
    if (reply?.readiness !== undefined) return reply.readiness
    const why = reply?.error === undefined ? 'did not answer within 1 s' : `failed to answer: ${reply.error}`
    const who = part === 'shipper' ? "the worker role's shipper" : `the ${part} role`
    return [{ name: part, ok: false, detail: `${who} ${why}` }]
  }
  return [...of('edge'), ...mine, ...of('worker'), ...of('shipper')]
}

/**
 * The API's metrics page: its own registry, the texts the other roles send, whether each
 * answered, and the CPU each one's thread has used (so a reading's cost can be split by role).
 */
export async function gatherMetrics(
  plane: ControlPlane,
  peers: readonly PartName[],
  own: () => Promise<string>,
): Promise<string> {
  const [replies, mine] = await Promise.all([plane.ask('metrics', peers), own()])
  const texts = [mine]
  const up = [
    "# HELP siteward_role_up Whether a role (or the worker's shipper) answered the API for this page (1) or not (0)",
    '# TYPE siteward_role_up gauge',
    'siteward_role_up{role="api"} 1',
  ]
  const cpu = [
    "# HELP siteward_thread_cpu_seconds_total CPU time (user + system) used by each role's thread",
    '# TYPE siteward_thread_cpu_seconds_total counter',
  ]
  const cpuLine = (part: PartName, seconds: number | null | undefined) => {
    if (typeof seconds === 'number') cpu.push(`siteward_thread_cpu_seconds_total{role="${part}"} ${seconds}`)
  }
  cpuLine('api', threadCpuSeconds())
  for (const part of peers) {
    const reply = replies.get(part)
    if (reply?.metrics !== undefined) texts.push(reply.metrics)
    up.push(`siteward_role_up{role="${part}"} ${reply?.metrics === undefined ? 0 : 1}`)
    // A role too busy to answer (a saturated edge) still shows its CPU: read from its thread's
    // /proc entry, which it gave when it last answered.
    const thread = reply === undefined ? plane.threadOf(part) : undefined
    cpuLine(part, thread === undefined ? reply?.cpuSeconds : cpuSecondsOf(thread))
  }
  texts.push(up.join('\n'))
  if (cpu.length > 2) texts.push(cpu.join('\n'))
  return `${texts.map((text) => text.trimEnd()).join('\n')}\n`
}
