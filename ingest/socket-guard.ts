import type { Socket } from 'node:net'

/**
 * Reads MQTT fixed headers as bytes stream past and reports each packet's declared length before
 * its body arrives, so an oversized packet is refused without ever being buffered (Aedes would
 * otherwise collect the whole declared length in memory first).
 */
export class PacketLengthWatcher {
  private remainingBody = 0
  private headerBytes: number[] = []

  constructor(private readonly maxPacketBytes: number) {}

  /** Returns an error message when the chunk declares a packet that is too large or malformed. */
  inspect(chunk: Buffer): string | null {
    let offset = 0
    while (offset < chunk.length) {
      if (this.remainingBody > 0) {
        const skip = Math.min(this.remainingBody, chunk.length - offset)
        this.remainingBody -= skip
        offset += skip
        continue
      }
      const byte = chunk[offset] as number
      offset += 1
      this.headerBytes.push(byte)
      if (this.headerBytes.length === 1) continue // packet type and flags
      // Remaining length: up to 4 bytes of 7-bit groups [MQTT-2.2.3].
      if ((byte & 0x80) !== 0) {
        if (this.headerBytes.length > 4) return 'malformed remaining length'
        continue
      }
      let length = 0
      let multiplier = 1
      for (let i = 1; i < this.headerBytes.length; i++) {
        length += ((this.headerBytes[i] as number) & 0x7f) * multiplier
        multiplier *= 128
      }
      this.headerBytes = []
      if (length > this.maxPacketBytes)
        return `declared packet length ${length} exceeds ${this.maxPacketBytes}`
      this.remainingBody = length
    }
    return null
  }
}

/**
 * Makes a socket refuse, at its header, a packet that declares more than `maxPacketBytes`: the
 * socket is closed before its body is read, so Aedes never collects the declared length.
 *
 * Aedes takes the bytes with `conn.read()` on every 'readable' event, so the check sits in that
 * one call on the socket itself. (It was a Duplex stream between the socket and Aedes: a second
 * stream on every byte read and every PUBACK written, about a fifth of the edge thread's time at
 * province load, BENCHMARKS.md, issue 14.) What waits unread is bounded by the socket's own
 * high-water mark: past it Node stops reading from the kernel.
 */
export function guardPacketLength(
  socket: Socket,
  maxPacketBytes: number,
  onRefused: (reason: string) => void,
): void {
  const watcher = new PacketLengthWatcher(maxPacketBytes)
  const read = socket.read
  socket.read = function guardedRead(this: Socket, size?: number) {
    const chunk: unknown = read.call(this, size)
    if (!Buffer.isBuffer(chunk)) return chunk
    const problem = watcher.inspect(chunk)
    if (problem === null) return chunk
    onRefused(problem)
    this.destroy()
    return null
  }
}
