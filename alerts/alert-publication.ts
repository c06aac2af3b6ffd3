import type { Logger } from 'pino'
import type { Alert, AlertChange } from '../domain/alert.js'
import type { AlertStore } from '../domain/ports.js'
import type { AlertFeed } from './alert-feed.js'

/** Publishes to MQTT on the engine's behalf (the broker, injected by the composition root). */
export interface AlertPublisher {
  publish(packet: { topic: string; payload: Buffer; qos: 0 | 1; retain: boolean }): Promise<void>
}

export const alertTopic = (siteId: string, alertId: string) => `sites/${siteId}/alerts/${alertId}`

/**
 * The MQTT face of the alerts, on the broker's side: `sites/{siteId}/alerts/{alertId}` at QoS 1,
 * retained while not closed, the retained copy removed on close. It follows the store (the
 * AlertFeed), so it needs nothing from whoever raised or moved the alert.
 */
export class AlertPublication {
  private readonly options: {
    readonly feed: Pick<AlertFeed, 'changes$'>
    readonly store: Pick<AlertStore, 'notClosed'>
    readonly publisher: AlertPublisher
    readonly logger: Logger
  }
  private subscription: { unsubscribe(): void } | null = null

  constructor(options: AlertPublication['options']) {
    this.options = options
  }

  /**
   * Publishes every alert not closed again (a restart may have lost the retained copies), then
   * each change as it comes; returns how many it republished.
   */
  async start(): Promise<number> {
    this.subscription = this.options.feed.changes$.subscribe((change: AlertChange) => {
      void this.publish(change.alert)
    })
    const open = await this.options.store.notClosed()
    for (const alert of open) await this.publish(alert)
    return open.length
  }

  stop(): void {
    this.subscription?.unsubscribe()
    this.subscription = null
  }

  private async publish(alert: Alert): Promise<void> {
    const topic = alertTopic(alert.siteId, alert.id)
    const { publisher } = this.options
    try {
      const payload = Buffer.from(JSON.stringify(alert))
      if (alert.state !== 'closed') {
        await publisher.publish({ topic, payload, qos: 1, retain: true })
        return
      }
      // Closed: tell subscribers, then remove the retained copy (an empty retained message).
      await publisher.publish({ topic, payload, qos: 1, retain: false })
      await publisher.publish({ topic, payload: Buffer.alloc(0), qos: 1, retain: true })
    } catch (error) {
      this.options.logger.error(
        { err: error, alertId: alert.id, topic },
        'could not publish the alert on MQTT',
      )
    }
  }
}
