import type { Client } from 'aedes'
import type { DeviceCredentials } from '../domain/registry.js'
import type { DeviceIdentity } from './topics.js'

/** A device needs two (its site's alerts, its commands); more is a broker's memory, not a use. */
export const maxSubscriptionsPerDevice = 16

/**
 * What the broker knows of each logged-in device: who it is, which credentials it logged in with
 * (so disabling or re-keying the device closes the connection), and the filters it holds, kept
 * per client id because a persistent session keeps them after a disconnect [MQTT-3.1.2-4].
 */
export class DeviceSessions {
  private readonly identities = new WeakMap<Client, DeviceIdentity>()
  private readonly credentialVersions = new WeakMap<Client, string>()
  private readonly connected = new Set<Client>()
  private readonly filters = new Map<string, Set<string>>()

  loggedIn(client: Client, identity: DeviceIdentity, credentialsUpdatedAt: string): void {
    this.identities.set(client, identity)
    this.credentialVersions.set(client, credentialsUpdatedAt)
  }

  /** Aedes' `client` event: the CONNACK went out. A clean session starts with no filters [MQTT-3.1.2-6]. */
  opened(client: Client): void {
    this.connected.add(client)
    if ((client as unknown as { clean?: boolean }).clean !== false) this.filters.delete(client.id)
  }

  disconnected(client: Client): void {
    this.connected.delete(client)
  }

  identityOf(client: Client): DeviceIdentity | undefined {
    return this.identities.get(client)
  }

  /** Grants the filter when the device holds it already or has room for it. */
  mayHold(deviceId: string, filter: string): boolean {
    const held = this.filters.get(deviceId) ?? new Set<string>()
    if (!held.has(filter) && held.size >= maxSubscriptionsPerDevice) return false
    held.add(filter)
    this.filters.set(deviceId, held)
    return true
  }

  released(clientId: string, filters: readonly string[]): void {
    const held = this.filters.get(clientId)
    for (const filter of filters) held?.delete(filter)
  }

  /** Connections whose device is gone, disabled or re-keyed since it logged in, with why. */
  async stale(
    current: (deviceId: string) => Promise<DeviceCredentials | undefined>,
  ): Promise<{ client: Client; reason: string }[]> {
    const out: { client: Client; reason: string }[] = []
    for (const client of [...this.connected]) {
      const identity = this.identities.get(client)
      if (identity === undefined) continue
      const now = await current(identity.deviceId)
      const reason =
        now === undefined
          ? 'removed'
          : now.disabledAt !== null
            ? 'disabled'
            : now.updatedAt !== this.credentialVersions.get(client)
              ? 'given a new secret'
              : null
      if (reason !== null) out.push({ client, reason })
    }
    return out
  }
}
