// A bounded mutation fuzzer for Siteward's MQTT listener, on loopback. Sessions come from many
// loopback addresses (127.0.0.0/8) and each follows one strategy; packets are made with
// mqtt-packet, then mutated. Valid devices are not part of this file: the harness runs them.
import { connect as connectTcp, type Socket } from 'node:net'
import { generate, type Packet } from 'mqtt-packet'
import { seededRandom as random } from '../simulators/random.js'

export interface FuzzTarget {
  readonly port: number
  /** Devices whose real secrets the authenticated strategies use (their own topics and others'). */
  readonly devices: readonly { readonly id: string; readonly siteId: string; readonly secret: string }[]
  /** A provisioned device id that only ever sees wrong secrets. */
  readonly victimId: string
}

export interface FuzzReport {
  packets: number
  sessions: number
  byStrategy: Record<string, number>
}

type Rng = () => number
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T
const int = (rng: Rng, max: number) => Math.floor(rng() * max)
const bytes = (rng: Rng, length: number) => Buffer.from(Array.from({ length }, () => int(rng, 256)))

/** One mutation of a packet's bytes: bit flips, bytes set, slices cut, doubled or truncated. */
export function mutate(rng: Rng, packet: Buffer): Buffer {
  const copy = Buffer.from(packet)
  switch (int(rng, 8)) {
    case 0: {
      for (let i = 0; i < 1 + int(rng, 4); i++) {
        const at = int(rng, copy.length)
        copy[at] = (copy[at] ?? 0) ^ (1 << int(rng, 8))
      }
      return copy
    }
    case 1:
      copy[int(rng, copy.length)] = int(rng, 256)
      return copy
    case 2: // the fixed header's flags (QoS 3, DUP on QoS 0, reserved bits)
      copy[0] = ((copy[0] ?? 0) & 0xf0) | int(rng, 16)
      return copy
    case 3: // a remaining length that lies
      return Buffer.concat([copy.subarray(0, 1), Buffer.from([0xff, 0xff, 0xff, 0x7f]), copy.subarray(2)])
    case 4:
      return copy.subarray(0, int(rng, copy.length))
    case 5: {
      const at = int(rng, copy.length)
      return Buffer.concat([copy.subarray(0, at), bytes(rng, 1 + int(rng, 32)), copy.subarray(at)])
    }
    case 6: {
      const at = int(rng, copy.length)
      return Buffer.concat([copy, copy.subarray(at)])
    }
    default: {
      const at = int(rng, copy.length)
      return Buffer.concat([copy.subarray(0, at), copy.subarray(at + 1 + int(rng, 8))])
    }
  }
}

const connectPacket = (clientId: string, username: string, password: string, extra: Partial<Packet> = {}) =>
  generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive: 30,
    clientId,
    username,
    password: Buffer.from(password),
    ...extra,
  } as Packet)

function publishPacket(rng: Rng, siteId: string, deviceId: string): Buffer {
  const topics = [
    `sites/${siteId}/devices/${deviceId}/telemetry`,
    `sites/${siteId}/devices/${deviceId}/event`,
    `sites/${siteId}/devices/${deviceId}/status`,
    `sites/OTHER/devices/${deviceId}/telemetry`, // not its own: refused, connection closed
    `${'x/'.repeat(int(rng, 2_000))}bomb`, // a topic-level bomb
    '$SYS/broker/clients',
    `sites/${siteId}/devices/${deviceId}/telemetry/#`,
  ]
  const payloads = [
    JSON.stringify({ ts: Date.now(), loadT: rng() * 10 }),
    JSON.stringify(
      Array.from({ length: int(rng, 50) }, (_, i) => ({ ts: Date.now() - i, windMps: rng() * 20 })),
    ),
    JSON.stringify({ ts: 'soon', loadT: 'heavy' }),
    JSON.stringify({ ts: Date.now() + 86_400_000, loadT: 1 }),
    '{"ts": 1, "loadT": 1e999}',
    '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',
    bytes(rng, int(rng, 300)).toString('latin1'),
    '',
  ]
  return generate({
    cmd: 'publish',
    topic: rng() < 0.7 ? (topics[int(rng, 3)] as string) : pick(rng, topics),
    payload: Buffer.from(pick(rng, payloads)),
    qos: pick(rng, [0, 1, 1, 2] as const),
    messageId: 1 + int(rng, 65_535),
    retain: rng() < 0.1,
    dup: rng() < 0.1,
  } as Packet)
}

function controlPacket(rng: Rng, siteId: string, deviceId: string): Buffer {
  const messageId = 1 + int(rng, 65_535)
  return pick(rng, [
    () => generate({ cmd: 'pubrel', messageId } as Packet), // QoS 2 misuse: release of nothing
    () => generate({ cmd: 'pubrec', messageId } as Packet),
    () => generate({ cmd: 'pubcomp', messageId } as Packet),
    () => generate({ cmd: 'puback', messageId } as Packet),
    () => generate({ cmd: 'pingreq' } as Packet),
    () =>
      generate({
        cmd: 'subscribe',
        messageId,
        subscriptions: [
          {
            topic: pick(rng, ['#', `sites/${siteId}/#`, `${'+/'.repeat(int(rng, 3_000))}#`, '$SYS/#']),
            qos: 1,
          },
        ],
      } as Packet),
    () =>
      generate({
        cmd: 'unsubscribe',
        messageId,
        unsubscriptions: ['#', `sites/${siteId}/alerts/#`],
      } as Packet),
    () => connectPacket(deviceId, deviceId, 'again'), // a second CONNECT is a protocol violation
    () => bytes(rng, 1 + int(rng, 64)),
  ])()
}

export const strategies = [
  'garbage-before-connect',
  'huge-length',
  'mutated-connect',
  'wrong-secret',
  'authenticated',
] as const
export type Strategy = (typeof strategies)[number]

/** The packets of one session, and the address it comes from. */
function session(
  rng: Rng,
  strategy: Strategy,
  target: FuzzTarget,
  n: number,
): { from: string; packets: Buffer[] } {
  const device = pick(rng, target.devices)
  const address = (block: number) => `127.0.${block}.${1 + (n % 250)}`
  switch (strategy) {
    case 'garbage-before-connect':
      return {
        from: address(3),
        packets: Array.from({ length: 1 + int(rng, 4) }, () => bytes(rng, 1 + int(rng, 200))),
      }
    case 'huge-length': // declares ~256 MB before any CONNECT: must be cut off, not buffered
      return { from: address(3), packets: [Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]), bytes(rng, 1024)] }
    case 'mutated-connect':
      return { from: address(5), packets: [mutate(rng, connectPacket(device.id, device.id, device.secret))] }
    case 'wrong-secret': {
      // Unknown ids, and one real id the harness keeps for guessing (its queue slows only it).
      const id = rng() < 0.5 ? `GUESS-${int(rng, 1e6)}` : target.victimId
      return { from: address(6), packets: [connectPacket(id, id, `guess-${int(rng, 1e9)}`)] }
    }
    default: {
      const packets = [connectPacket(device.id, device.id, device.secret)]
      for (let i = 0; i < 5 + int(rng, 40); i++) {
        const packet =
          rng() < 0.6
            ? publishPacket(rng, device.siteId, device.id)
            : controlPacket(rng, device.siteId, device.id)
        packets.push(rng() < 0.4 ? mutate(rng, packet) : packet)
      }
      return { from: address(4), packets }
    }
  }
}

/** Sends one session's packets, a few per write, until they run out or the broker hangs up. */
function play(port: number, from: string, packets: Buffer[], rng: Rng): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0
    let socket: Socket
    const finish = () => {
      socket.destroy()
      resolve(sent)
    }
    socket = connectTcp({ port, host: '127.0.0.1', localAddress: from }, () => {
      const next = () => {
        if (socket.destroyed) return
        if (sent >= packets.length) {
          setTimeout(finish, 20) // give the broker a moment to answer or hang up
          return
        }
        const take = Math.min(packets.length - sent, 1 + int(rng, 4))
        socket.write(Buffer.concat(packets.slice(sent, sent + take)))
        sent += take
        setTimeout(next, int(rng, 3))
      }
      next()
    })
    socket.on('error', () => undefined)
    socket.on('close', () => resolve(sent))
    socket.setTimeout(5_000, finish)
  })
}

/** Runs sessions, `concurrency` at a time, until `packets` packets have been written. */
export async function runFuzz(
  target: FuzzTarget,
  options: {
    packets: number
    concurrency: number
    seed: number
    onProgress?: (report: FuzzReport) => void
    /** Only these strategies (default: all, in turn). */
    only?: readonly Strategy[]
  },
): Promise<FuzzReport> {
  const rng = random(options.seed)
  const report: FuzzReport = { packets: 0, sessions: 0, byStrategy: {} }
  let started = 0
  let lastProgress = 0
  const worker = async () => {
    while (report.packets < options.packets) {
      const n = started++
      const pool = options.only ?? strategies
      const strategy = pool[n % pool.length] as Strategy
      const plan = session(rng, strategy, target, n)
      const sent = await play(target.port, plan.from, plan.packets, rng)
      report.packets += sent
      report.sessions += 1
      report.byStrategy[strategy] = (report.byStrategy[strategy] ?? 0) + sent
      if (options.onProgress !== undefined && report.packets - lastProgress >= options.packets / 10) {
        lastProgress = report.packets
        options.onProgress(report)
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  return report
}
