import type { CraneCycle, CraneTelemetry, DeviceEvent, DeviceStatus, PitItem } from './payloads.js'
import type { DeviceKind } from './registry.js'

/** A pit point reading with what the engine derives from the point's history. */
export interface PitPointReading {
  readonly pointCode: string
  readonly item: PitItem
  readonly value: number
  readonly depthM?: number | undefined
  /** value − the point's baseline (configured, or the first accepted reading), at the item's resolution. */
  readonly cumulative: number
  /** Change per day over the rate window of event time (24 h by default); null when unknown. */
  readonly ratePerDay: number | null
  /** The series' reading before this one in event time (absent in records from before v0.2). */
  readonly previousValue?: number | null | undefined
  /** The reading one rate window back, the rate's reference. */
  readonly referenceValue?: number | null | undefined
}

export interface PitTelemetryReading {
  readonly ts: number
  readonly seq?: number | undefined
  readonly points: readonly PitPointReading[]
}

/** What a message carries, by device kind and channel: the items are validated and typed. */
export type MessageBody =
  | { readonly kind: 'crane'; readonly channel: 'telemetry'; readonly items: readonly CraneTelemetry[] }
  | { readonly kind: 'crane'; readonly channel: 'cycle'; readonly items: readonly CraneCycle[] }
  | { readonly kind: 'pit'; readonly channel: 'telemetry'; readonly items: readonly PitTelemetryReading[] }
  | { readonly kind: DeviceKind; readonly channel: 'status'; readonly items: readonly DeviceStatus[] }
  | { readonly kind: DeviceKind; readonly channel: 'event'; readonly items: readonly DeviceEvent[] }

type ItemOf<B> = B extends { readonly items: readonly (infer I)[] } ? I : never
type BodyToReading<B extends MessageBody> = B extends MessageBody
  ? { readonly kind: B['kind']; readonly channel: B['channel']; readonly data: ItemOf<B> }
  : never

export type ReadingSource = 'mqtt' | 'manual'

/**
 * One validated observation, timed by the device's clock (event time). This is what ingest emits
 * and what the rules consume.
 */
export type Reading = {
  readonly siteId: string
  readonly deviceId: string
  /** Event time: the device's `ts`, never later than `receivedAt` (see {@link eventTime}). */
  readonly ts: number
  /** When the engine accepted the message, epoch milliseconds. */
  readonly receivedAt: number
  readonly source: ReadingSource
} & BodyToReading<MessageBody>

/**
 * The time the rules judge a reading at: the device's `ts`, but never ahead of the engine's clock.
 * Admission lets a `ts` up to 5 minutes ahead through (a fast device clock), and the reading is
 * stored as sent; but a reading stamped in the future must not clear a live alert at a future
 * time, nor move the device's event-time mark ahead so that its on-time readings look late.
 */
export function eventTime(ts: number, receivedAt: number): number {
  return Math.min(ts, receivedAt)
}
