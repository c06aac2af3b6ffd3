import type { DeviceRepository, SiteRepository, TelemetryStore, TokenRepository } from '../domain/ports.js'
import type { Provisioning } from '../domain/provisioning.js'

export interface ReadinessCheck {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

/** What the HTTP API needs from the engine; the composition root provides it. */
export interface ApiServices {
  readonly registry: SiteRepository & DeviceRepository & TokenRepository
  readonly provisioning: Provisioning
  readonly telemetry: TelemetryStore
  readonly readiness: () => Promise<readonly ReadinessCheck[]>
  readonly metrics: { readonly contentType: string; render(): Promise<string> }
}
