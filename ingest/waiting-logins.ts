import type { Socket } from 'node:net'

export type WaitingDecision =
  | { readonly kind: 'admit'; readonly evicted: Socket | null }
  | { readonly kind: 'refuse'; readonly reason: 'per_address' }

/**
 * Sockets connected but not yet logged in. One address may hold only `perAddress` of them, so a
 * flood of half-open CONNECTs from one host cannot take the slots of every reconnecting device.
 * When all `total` slots are taken, the oldest waiting socket is closed to make room: a real
 * device sends CONNECT at once and leaves this set within milliseconds, so the sockets that
 * have waited longest are the ones doing nothing (or a guesser whose wrong answer is held).
 */
export class WaitingLogins {
  /** Each socket with its address, read once: a closed socket no longer knows it. */
  private readonly sockets = new Map<Socket, string>()
  private readonly byAddress = new Map<string, number>()

  constructor(
    private readonly total: number,
    private readonly perAddress: number,
  ) {}

  get size(): number {
    return this.sockets.size
  }

  add(socket: Socket): WaitingDecision {
    const address = socket.remoteAddress ?? 'unknown'
    const held = this.byAddress.get(address) ?? 0
    if (held >= this.perAddress) return { kind: 'refuse', reason: 'per_address' }
    let evicted: Socket | null = null
    if (this.sockets.size >= this.total) {
      evicted = this.sockets.keys().next().value ?? null
      if (evicted !== null) this.delete(evicted)
    }
    this.sockets.set(socket, address)
    this.byAddress.set(address, held + 1)
    return { kind: 'admit', evicted }
  }

  /** The socket logged in or closed. */
  delete(socket: Socket): void {
    const address = this.sockets.get(socket)
    if (address === undefined) return
    this.sockets.delete(socket)
    const held = (this.byAddress.get(address) ?? 1) - 1
    if (held === 0) this.byAddress.delete(address)
    else this.byAddress.set(address, held)
  }
}
