import type { PublishPacket } from 'aedes'
import type { Logger } from 'pino'
import { messageRecordJson } from '../domain/log-record.js'
import type { WriteAheadLog } from '../domain/ports.js'
import { admitVerbatim } from './admission.js'
import type { Backpressure } from './backpressure.js'
import { countRecord, type IngestMetrics } from './ingest-metrics.js'
import type { IngestState } from './ingest-state.js'
import type { ThrottledLog } from './throttled-log.js'
import { type DeviceIdentity, decidePublish } from './topics.js'

export interface PublishGateParts {
  readonly state: IngestState
  readonly log: WriteAheadLog
  readonly metrics: IngestMetrics
  readonly logger: Logger
  readonly throttle: ThrottledLog
  readonly now: () => number
  readonly backpressure?: Backpressure | undefined
}

/**
 * A logged-in device's PUBLISH on its way to the PUBACK (CONTRACT §2): the topic ACL, the log's
 * backpressure, admission (validation, repeats), then the append to the write-ahead log. `done`
 * is Aedes' `authorizePublish` callback, the last hook before the PUBACK: it is called without
 * an error only once the record is on disk. An error closes the connection (MQTT 3.1.1 has no
 * negative PUBACK), and the device resends after reconnecting.
 */
export class PublishGate {
  private readonly parts: PublishGateParts

  constructor(parts: PublishGateParts) {
    this.parts = parts
  }

  pass(identity: DeviceIdentity, packet: PublishPacket, done: (error?: Error | null) => void): void {
    const { metrics, throttle, logger, now } = this.parts
    const decision = decidePublish(identity, packet.topic)
    if (!decision.allowed) {
      metrics.refused('acl')
      throttle.maybe(`acl:${identity.deviceId}`, now(), (suppressed) =>
        logger.warn(
          { deviceId: identity.deviceId, topic: packet.topic, reason: decision.reason, suppressed },
          'publish refused; connection closed',
        ),
      )
      done(new Error(`publish to ${packet.topic} refused: ${decision.reason}`))
      return
    }
    const pressure = this.parts.backpressure?.decide()
    if (pressure?.kind === 'refuse') {
      metrics.refused('log_full')
      throttle.maybe(`full:${identity.deviceId}`, now(), (suppressed) =>
        logger.warn(
          { deviceId: identity.deviceId, topic: packet.topic, reason: pressure.reason, suppressed },
          'publish refused; connection closed, the device resends after reconnecting',
        ),
      )
      done(new Error(`publish refused: ${pressure.reason}`))
      return
    }
    const { record, itemsJson } = admitVerbatim(
      {
        siteId: identity.siteId,
        deviceId: identity.deviceId,
        kind: identity.kind,
        channel: decision.channel,
        topic: packet.topic,
        payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
        receivedAt: now(),
        source: 'mqtt',
      },
      this.parts.state,
    )
    countRecord(record, metrics, throttle, logger)
    const delayMs = pressure?.kind === 'delay' ? pressure.ms : 0
    const json = itemsJson === null ? JSON.stringify(record) : messageRecordJson(record, itemsJson)
    this.parts.log.appendJsonThen(json, (error) => {
      if (error !== null) {
        metrics.refused('log_failure')
        done(error)
      } else if (delayMs === 0) {
        done(null)
      } else {
        metrics.delayed(delayMs)
        setTimeout(() => done(null), delayMs).unref()
      }
    })
  }
}
