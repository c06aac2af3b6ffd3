import { SitewardError } from './errors.js'
import type { Registry } from './ports.js'
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
  private readonly registry: Registry

  constructor(registry: Registry) {
    this.registry = registry
  }

  addSite(input: SiteInput): Promise<Site> {
    return this.registry.upsertSite(siteInputSchema.parse(input))
  }

  async addDevice(input: DeviceInput): Promise<ProvisionedDevice> {
    const valid = deviceInputSchema.parse(input)
    const secret = generateSecret()
    return { device: await this.registry.createDevice(valid, hashSecret(secret)), secret }
  }

  createToken(input: TokenInput): Promise<IssuedToken> {
    return this.registry.issueToken(input)
  }

  listTokens(): Promise<TokenSummary[]> {
    return this.registry.listTokens()
  }

  /** Ends the token for good: its requests get 401, its open alert streams end. */
  async revokeToken(id: string): Promise<TokenSummary> {
    if (!(await this.registry.revokeToken(id))) throw new SitewardError('NOT_FOUND', `no token ${id}`)
    const revoked = (await this.registry.listTokens()).find((token) => token.id === id)
    if (revoked === undefined) throw new SitewardError('NOT_FOUND', `no token ${id}`)
    return revoked
  }

  /** A disabled device's logins are refused and its connection is closed; its data is kept. */
  async setDeviceEnabled(deviceId: string, enabled: boolean): Promise<Device> {
    if (!(await this.registry.updateDeviceAccess(deviceId, { disabled: !enabled })))
      throw new SitewardError('DEVICE_NOT_FOUND', `no device ${deviceId}`)
    return this.requireDevice(deviceId)
  }

  /** A new secret, shown once; the old one stops working and its connection is closed. */
  async rotateSecret(deviceId: string): Promise<ProvisionedDevice> {
    const secret = generateSecret()
    if (!(await this.registry.updateDeviceAccess(deviceId, { secretHash: hashSecret(secret) })))
      throw new SitewardError('DEVICE_NOT_FOUND', `no device ${deviceId}`)
    return { device: await this.requireDevice(deviceId), secret }
  }

  private async requireDevice(deviceId: string): Promise<Device> {
    const device = await this.registry.getDevice(deviceId)
    if (device === undefined) throw new SitewardError('DEVICE_NOT_FOUND', `no device ${deviceId}`)
    return device
  }
}
