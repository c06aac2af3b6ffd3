import { BroadcastChannel } from 'node:worker_threads'

/** What the roles ring each other about; the store (or the log) holds the news itself. */
export type DoorbellTopic = 'alerts' | 'credentials' | 'settings' | 'inbox' | 'inbox-answered'

/**
 * A ring between the roles that share one data folder, in any thread of this process (a
 * BroadcastChannel named after the folder; the ringer itself does not hear it). It carries no
 * data: whoever hears it reads the store. Roles in other processes are not reached and poll.
 */
export class Doorbell {
  private readonly channel: BroadcastChannel
  private readonly listeners = new Set<() => void>()
  private rung = false
  private closed = false

  constructor(dataDir: string, topic: DoorbellTopic) {
    this.channel = new BroadcastChannel(`siteward.${topic}:${dataDir}`)
    this.channel.unref()
    this.channel.onmessage = () => {
      for (const listener of this.listeners) listener()
    }
  }

  /**
   * Rings once for everything rung in this turn of the event loop, after it: a post costs
   * 100–300 µs here, and a batch that changes many alerts needs one ring, not one per alert
   * (those in the batch are committed by then). The hearer reads the store, so one is enough.
   */
  ring(): void {
    if (this.rung) return
    this.rung = true
    setImmediate(() => {
      this.rung = false
      if (!this.closed) this.channel.postMessage(0)
    })
  }

  onRing(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  close(): void {
    this.closed = true
    this.listeners.clear()
    this.channel.close()
  }
}
