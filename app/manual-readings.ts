import { SitewardError } from '../domain/errors.js'
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

/**
 * Manual and semi-automatic readings (a surveyor's pit round, a wind speed read off a hand
 * anemometer): the same validation as MQTT, the same rules, durable in the write-ahead log before
 * the answer, recorded with who entered them and tagged source=manual.
 */
export async function submitManualReadings(
  dependencies: {
    registry: RegistryRepository
    state: IngestState
    log: WriteAheadLog
    backpressure?: Backpressure
  },
  siteId: string,
  principal: Principal,
  body: unknown,
): Promise<ManualReadingsResult> {
  const site = dependencies.registry.getSite(siteId)
  if (site === undefined || !canSeeSite(principal, site))
    throw new SitewardError('SITE_NOT_FOUND', `no site ${siteId} in your scope`)
  requireRole(principal, ['officer', 'supervisor', 'admin'], 'submit readings')
  const pressure = dependencies.backpressure?.decide()
  if (pressure?.kind === 'refuse') throw new SitewardError('LOG_FULL', pressure.reason)
  const objects = Array.isArray(body) ? body : [body]
  if (objects.length === 0 || objects.length > 1_000)
    throw new SitewardError('VALIDATION_FAILED', 'body: one reading or an array of 1 to 1,000')
  const rejected: { index: number; reason: string }[] = []
  let accepted = 0
  let duplicates = 0
  const receivedAt = Date.now()
  for (const [index, object] of objects.entries()) {
    if (object === null || typeof object !== 'object' || Array.isArray(object)) {
      rejected.push({ index, reason: '(root): expected an object with deviceId and the payload fields' })
      continue
    }
    if (nestsDeeperThan(object, payloadLimits.maxNesting)) {
      rejected.push({ index, reason: `(root): nests deeper than ${payloadLimits.maxNesting} levels` })
      continue
    }
    const { deviceId, channel = 'telemetry', ...payload } = object as Record<string, unknown>
    const device = typeof deviceId === 'string' ? dependencies.registry.getDevice(deviceId) : undefined
    if (device === undefined || device.siteId !== siteId) {
      rejected.push({ index, reason: `deviceId: no device ${String(deviceId)} on site ${siteId}` })
      continue
    }
    if (typeof channel !== 'string' || !(channels as readonly string[]).includes(channel)) {
      rejected.push({ index, reason: `channel: expected one of ${channels.join(', ')}` })
      continue
    }
    const record = {
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
      enteredBy: principal.name,
    }
    await dependencies.log.append(record)
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
