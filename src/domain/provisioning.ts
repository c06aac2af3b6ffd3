import type { DeviceRepository, SiteRepository, TokenRepository } from './ports.js'
import {
  type Device,
  type DeviceInput,
  deviceInputSchema,
  type IssuedToken,
  type Site,
  type SiteInput,
  siteInputSchema,
  type TokenInput,
} from './registry.js'
import { generateSecret, hashSecret } from './secrets.js'

/** A new device and its secret, which is shown once and stored only as a hash. */
export interface ProvisionedDevice {
  readonly device: Device
  readonly secret: string
}

/** Creating sites, devices and tokens: one implementation behind both the CLI and the admin API. */
export class Provisioning {
  private readonly registry: SiteRepository & DeviceRepository & TokenRepository

  constructor(registry: SiteRepository & DeviceRepository & TokenRepository) {
    this.registry = registry
  }

  addSite(input: SiteInput): Site {
    return this.registry.upsertSite(siteInputSchema.parse(input))
  }

  addDevice(input: DeviceInput): ProvisionedDevice {
    const valid = deviceInputSchema.parse(input)
    const secret = generateSecret()
    return { device: this.registry.createDevice(valid, hashSecret(secret)), secret }
  }

  createToken(input: TokenInput): IssuedToken {
    return this.registry.issueToken(input)
  }
}
