import { connect as connectTcp, type Socket } from 'node:net'
import { generate, type IConnackPacket, type IConnectPacket, type Packet, parser } from 'mqtt-packet'

/**
 * A bare MQTT 3.1.1 client over TCP for conformance tests: it sends exactly the packets it is
 * told to (never an automatic PUBACK or PINGREQ), and hands out what it receives in order.
 */
export class RawMqtt {
  private readonly socket: Socket
  private readonly received: Packet[] = []
  private waiters: (() => void)[] = []
  readonly closed: Promise<void>

  private constructor(socket: Socket) {
    this.socket = socket
    const parse = parser({ protocolVersion: 4 })
    parse.on('packet', (packet: Packet) => {
      this.received.push(packet)
      for (const wake of this.waiters.splice(0)) wake()
    })
    socket.on('data', (chunk: Buffer) => parse.parse(chunk))
    socket.on('error', () => undefined)
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        for (const wake of this.waiters.splice(0)) wake()
        resolve()
      }),
    )
  }

  static async connect(
    port: number,
    connect: Partial<IConnectPacket> & { clientId: string },
  ): Promise<{ client: RawMqtt; connack: IConnackPacket }> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connectTcp(port, '127.0.0.1', () => resolve(s))
      s.once('error', reject)
    })
    const client = new RawMqtt(socket)
    client.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      keepalive: 30,
      ...connect,
    })
    const connack = (await client.next('connack')) as IConnackPacket
    return { client, connack }
  }

  send(packet: Packet | Record<string, unknown>): void {
    this.socket.write(generate(packet as Packet))
  }

  /** The next received packet of this kind (earlier ones of other kinds are skipped). */
  async next(cmd: Packet['cmd'], timeoutMs = 3_000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const index = this.received.findIndex((packet) => packet.cmd === cmd)
      if (index >= 0) return this.received.splice(index, 1)[0] as Packet
      if (this.socket.destroyed) throw new Error(`connection closed before a ${cmd}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no ${cmd} within ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** Drop the TCP connection without DISCONNECT (a device losing power). */
  destroy(): void {
    this.socket.destroy()
  }

  get isClosed(): boolean {
    return this.socket.destroyed
  }
}
