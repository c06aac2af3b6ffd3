import type { Socket } from 'node:net'
import { Duplex } from 'node:stream'

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
 * The socket as Aedes sees it: bytes pass through unchanged, but a packet that declares more than
 * `maxPacketBytes` closes the connection at its header.
 */
export class GuardedSocket extends Duplex {
  private readonly watcher: PacketLengthWatcher

  constructor(
    readonly socket: Socket,
    maxPacketBytes: number,
    onRefused: (reason: string) => void,
  ) {
    super({ allowHalfOpen: false })
    this.watcher = new PacketLengthWatcher(maxPacketBytes)
    socket.on('data', (chunk: Buffer) => {
      const problem = this.watcher.inspect(chunk)
      if (problem !== null) {
        onRefused(problem)
        socket.destroy()
        return
      }
      if (!this.push(chunk)) socket.pause()
    })
    socket.on('end', () => this.push(null))
    socket.on('error', (error) => this.destroy(error))
    socket.on('close', () => this.destroy())
  }

  override _read(): void {
    this.socket.resume()
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, encoding, callback)
  }

  /** PUBACKs released by one group commit arrive together: send them in one write. */
  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.socket.write(
      chunks.length === 1
        ? (chunks[0] as { chunk: Buffer }).chunk
        : Buffer.concat(chunks.map((c) => c.chunk)),
      callback,
    )
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(callback)
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy()
    callback(error)
  }
}
