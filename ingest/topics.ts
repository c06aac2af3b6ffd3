import { type Channel, channels } from '../domain/payloads.js'

/** Who a connected client is, bound at CONNECT from its credentials. */
export interface DeviceIdentity {
  readonly deviceId: string
  readonly siteId: string
  readonly kind: 'crane' | 'pit'
}

const channelSet: ReadonlySet<string> = new Set(channels)
const allowedChannels: ReadonlyMap<string, PublishDecision> = new Map(
  channels.map((channel) => [channel, Object.freeze({ allowed: true, channel })]),
)

export const deviceTopic = (siteId: string, deviceId: string, channel: Channel) =>
  `sites/${siteId}/devices/${deviceId}/${channel}`
export const alertTopic = (siteId: string, alertId: string) => `sites/${siteId}/alerts/${alertId}`

export type PublishDecision =
  | { readonly allowed: true; readonly channel: Channel }
  | { readonly allowed: false; readonly reason: string }

/**
 * CONTRACT §2: a device publishes only to sites/{its site}/devices/{its id}/{channel}. `$`
 * topics (`$SYS`) are reserved for the broker [MQTT-4.7.2-1].
 */
export function decidePublish(identity: DeviceIdentity, topic: string): PublishDecision {
  // Nearly every publish is a device's own reading: one prefix test and one lookup, no split and
  // no new decision object (the hot path of issue 14).
  const own = `sites/${identity.siteId}/devices/${identity.deviceId}/`
  if (topic.startsWith(own)) {
    const allowed = allowedChannels.get(topic.slice(own.length))
    if (allowed !== undefined) return allowed
  }
  if (topic.startsWith('$')) return { allowed: false, reason: 'topics starting with $ are reserved' }
  const levels = topic.split('/')
  if (levels.length !== 5 || levels[0] !== 'sites' || levels[2] !== 'devices') {
    return { allowed: false, reason: 'not a device topic (sites/{siteId}/devices/{deviceId}/{channel})' }
  }
  if (levels[1] !== identity.siteId || levels[3] !== identity.deviceId) {
    return { allowed: false, reason: "another device's or site's topic" }
  }
  const channel = levels[4] ?? ''
  if (!channelSet.has(channel))
    return { allowed: false, reason: `unknown channel "${channel}" (${channels.join(', ')})` }
  return { allowed: true, channel: channel as Channel }
}

/** A Last Will may only announce the device's own status (CONTRACT §2). */
export function isAllowedWillTopic(identity: DeviceIdentity, topic: string): boolean {
  return topic === deviceTopic(identity.siteId, identity.deviceId, 'status')
}

/**
 * CONTRACT §2: a device may subscribe to its site's alerts and its own commands. Filters are
 * matched literally against those two prefixes, so no wildcard can widen them.
 */
export function isAllowedSubscription(identity: DeviceIdentity, filter: string): boolean {
  const alerts = `sites/${identity.siteId}/alerts/`
  const commands = `sites/${identity.siteId}/devices/${identity.deviceId}/commands`
  if (filter.startsWith('$')) return false
  if (filter === `${alerts}#` || filter === commands || filter === `${commands}/#`) return true
  const within = (prefix: string) => filter.startsWith(prefix) && !filter.slice(prefix.length).includes('#')
  return within(alerts) || within(`${commands}/`)
}
