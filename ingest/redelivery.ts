import { Readable } from 'node:stream'
import type { Aedes, Client } from 'aedes'

/**
 * [MQTT-3.3.1-1]: a PUBLISH sent again (after a reconnect to a persistent session) carries DUP=1.
 * Aedes 1.2 resends the stored in-flight packets, those that already have a packet id, without
 * it (found by the conformance suite, which Debian's mosquitto passes). The stored stream is
 * wrapped so that exactly those are flagged; messages queued while offline go out as first sends.
 */
export function markRedeliveriesAsDuplicates(aedes: Aedes): void {
  const persistence = (aedes as unknown as { persistence: { outgoingStream(client: Client): Readable } })
    .persistence
  const outgoingStream = persistence.outgoingStream.bind(persistence)
  persistence.outgoingStream = (client) =>
    Readable.from(
      (async function* () {
        for await (const packet of outgoingStream(client) as AsyncIterable<{ messageId?: number }>)
          yield packet.messageId ? { ...packet, dup: true } : packet
      })(),
    )
}
