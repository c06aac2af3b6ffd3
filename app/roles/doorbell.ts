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

  constructor(dataDir: string, topic: DoorbellTopic) {
    this.channel = new BroadcastChannel(`siteward.${topic}:${dataDir}`)
    this.channel.unref()
    this.channel.onmessage = () => {
      for (const listener of this.listeners) listener()
    }
  }

  ring(): void {
    this.channel.postMessage(0)
  }

  onRing(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  close(): void {
    this.listeners.clear()
    this.channel.close()
  }
}
