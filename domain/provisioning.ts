import { SitewardError } from './errors.js'
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
  type TokenSummary,
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

  listTokens(): TokenSummary[] {
    return this.registry.listTokens()
  }

  /** Ends the token for good: its requests get 401, its open alert streams end. */
  revokeToken(id: string): TokenSummary {
    if (!this.registry.revokeToken(id)) throw new SitewardError('NOT_FOUND', `no token ${id}`)
    const revoked = this.registry.listTokens().find((token) => token.id === id)
    if (revoked === undefined) throw new SitewardError('NOT_FOUND', `no token ${id}`)
    return revoked
  }

  /** A disabled device's logins are refused and its connection is closed; its data is kept. */
  setDeviceEnabled(deviceId: string, enabled: boolean): Device {
    if (!this.registry.updateDeviceAccess(deviceId, { disabled: !enabled }))
      throw new SitewardError('DEVICE_NOT_FOUND', `no device ${deviceId}`)
    return this.requireDevice(deviceId)
  }

  /** A new secret, shown once; the old one stops working and its connection is closed. */
  rotateSecret(deviceId: string): ProvisionedDevice {
    const secret = generateSecret()
    if (!this.registry.updateDeviceAccess(deviceId, { secretHash: hashSecret(secret) }))
      throw new SitewardError('DEVICE_NOT_FOUND', `no device ${deviceId}`)
    return { device: this.requireDevice(deviceId), secret }
  }

  private requireDevice(deviceId: string): Device {
    const device = this.registry.getDevice(deviceId)
    if (device === undefined) throw new SitewardError('DEVICE_NOT_FOUND', `no device ${deviceId}`)
    return device
  }
}
