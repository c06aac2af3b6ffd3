import { SitewardError } from '../domain/errors.js'
import type { MessageRecord } from '../domain/log-record.js'
import { type Channel, channels, nestsDeeperThan, payloadLimits } from '../domain/payloads.js'
import type { WriteAheadLog } from '../domain/ports.js'
import type { Principal } from '../domain/registry.js'
import { canSeeSite, requireRole } from '../domain/scope.js'
import { admit } from '../ingest/admission.js'
import type { Backpressure } from '../ingest/backpressure.js'
import type { IngestState } from '../ingest/ingest-state.js'
import type { RegistryRepository } from '../storage/sqlite/registry-repository.js'

export interface ManualReadingsResult {
  readonly accepted: number
  readonly duplicates: number
  readonly rejected: readonly { readonly index: number; readonly reason: string }[]
}

export const maxReadingsPerSubmission = 1_000

/**
 * A submission as filed for the edge: the objects, and those the API already refused (nested
 * too deep to store: they are null in `objects`).
 */
export interface FiledReadings {
  readonly objects: readonly unknown[]
  readonly refused: readonly { readonly index: number; readonly reason: string }[]
}

const tooDeep = `(root): nests deeper than ${payloadLimits.maxNesting} levels`

/**
 * Who may submit readings for a site, and the body's outer shape: answered by the API at once,
 * before the submission goes to the edge. An object nested too deep is refused here (it could
 * not even be stored for the edge); the others go on.
 */
export async function checkManualSubmission(
  registry: Pick<RegistryRepository, 'getSite'>,
  siteId: string,
  principal: Principal,
  body: unknown,
): Promise<FiledReadings> {
  const site = await registry.getSite(siteId)
  if (site === undefined || !canSeeSite(principal, site))
    throw new SitewardError('SITE_NOT_FOUND', `no site ${siteId} in your scope`)
  requireRole(principal, ['officer', 'supervisor', 'admin'], 'submit readings')
  const objects = Array.isArray(body) ? body : [body]
  if (objects.length === 0 || objects.length > maxReadingsPerSubmission)
    throw new SitewardError('VALIDATION_FAILED', 'body: one reading or an array of 1 to 1,000')
  const refused: { index: number; reason: string }[] = []
  const kept = objects.map((object, index) => {
    if (object === null || typeof object !== 'object' || !nestsDeeperThan(object, payloadLimits.maxNesting))
      return object
    refused.push({ index, reason: tooDeep })
    return null
  })
  if (refused.length === objects.length)
    throw new SitewardError(
      'VALIDATION_FAILED',
      refused.map((r) => `[${r.index}] ${r.reason}`).join('; '),
      refused,
    )
  return { objects: kept, refused }
}

/**
 * Manual and semi-automatic readings (a surveyor's pit round, a wind speed read off a hand
 * anemometer), taken by the edge: the same validation as MQTT, the same rules, durable in the
 * write-ahead log before the answer, recorded with who entered them and tagged source=manual.
 * `logged` holds what a previous run already logged of this submission (by object index): those
 * objects are counted from their records, never logged twice.
 */
export async function admitManualReadings(
  dependencies: {
    registry: Pick<RegistryRepository, 'getDevice'>
    state: IngestState
    log: WriteAheadLog
    backpressure?: Backpressure
  },
  submission: {
    readonly id: number
    readonly siteId: string
    readonly enteredBy: string
    readonly body: FiledReadings
  },
  logged: ReadonlyMap<number, MessageRecord> = new Map(),
): Promise<ManualReadingsResult> {
  const { siteId } = submission
  const pressure = logged.size === 0 ? dependencies.backpressure?.decide() : undefined
  if (pressure?.kind === 'refuse') throw new SitewardError('LOG_FULL', pressure.reason)
  const { objects } = submission.body
  const refused = new Map(submission.body.refused.map((r) => [r.index, r.reason]))
  const rejected: { index: number; reason: string }[] = []
  let accepted = 0
  let duplicates = 0
  const receivedAt = Date.now()
  for (const [index, object] of objects.entries()) {
    const refusal = refused.get(index)
    if (refusal !== undefined) {
      rejected.push({ index, reason: refusal })
      continue
    }
    if (object === null || typeof object !== 'object' || Array.isArray(object)) {
      rejected.push({ index, reason: '(root): expected an object with deviceId and the payload fields' })
      continue
    }
    const { deviceId, channel = 'telemetry', ...payload } = object as Record<string, unknown>
    const device = typeof deviceId === 'string' ? await dependencies.registry.getDevice(deviceId) : undefined
    if (device === undefined || device.siteId !== siteId) {
      rejected.push({ index, reason: `deviceId: no device ${String(deviceId)} on site ${siteId}` })
      continue
    }
    if (typeof channel !== 'string' || !(channels as readonly string[]).includes(channel)) {
      rejected.push({ index, reason: `channel: expected one of ${channels.join(', ')}` })
      continue
    }
    let record = logged.get(index)
    if (record === undefined) {
      record = {
        ...admit(
          {
            siteId,
            deviceId: device.id,
            kind: device.kind,
            channel: channel as Channel,
            topic: `api:sites/${siteId}/readings`,
            payload: Buffer.from(JSON.stringify(payload)),
            receivedAt,
            source: 'manual',
          },
          dependencies.state,
        ),
        enteredBy: submission.enteredBy,
        inbox: { id: submission.id, index },
      }
      await dependencies.log.append(record)
    }
    accepted += record.items.length
    duplicates += record.duplicates
    for (const reject of record.rejects) rejected.push({ index, reason: reject.reason })
  }
  if (accepted === 0 && duplicates === 0) {
    throw new SitewardError(
      'VALIDATION_FAILED',
      rejected.map((r) => `[${r.index}] ${r.reason}`).join('; '),
      rejected,
    )
  }
  return { accepted, duplicates, rejected }
}
