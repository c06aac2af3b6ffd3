import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { DeviceCredentials } from '../domain/registry.js'
import { verifySecret } from '../domain/secrets.js'

interface VerifiedLogin {
  readonly updatedAt: string
  readonly digest: Buffer
}

/**
 * Checks device credentials against the registry on every CONNECT (so a device added by the CLI
 * while the engine runs can log in at once). A successful scrypt check is remembered as an HMAC
 * under a key that lives only in this process, keyed to the credential row's `updatedAt`, so a
 * reconnect storm costs one scrypt per device instead of one per attempt.
 */
export class DeviceAuthenticator {
  private readonly lookup: (deviceId: string) => Promise<DeviceCredentials | undefined>
  private readonly processKey = randomBytes(32)
  private readonly verified = new Map<string, VerifiedLogin>()

  constructor(lookup: (deviceId: string) => Promise<DeviceCredentials | undefined>) {
    this.lookup = lookup
  }

  /** The device's credentials as stored now. */
  current(deviceId: string): Promise<DeviceCredentials | undefined> {
    return this.lookup(deviceId)
  }

  async verify(deviceId: string, secret: string): Promise<DeviceCredentials | null> {
    const credentials = await this.lookup(deviceId)
    if (credentials === undefined) return null
    const digest = createHmac('sha256', this.processKey).update(secret).digest()
    const known = this.verified.get(deviceId)
    if (
      known !== undefined &&
      known.updatedAt === credentials.updatedAt &&
      timingSafeEqual(known.digest, digest)
    ) {
      return credentials
    }
    if (!(await verifySecret(secret, credentials.secretHash))) return null
    this.verified.set(deviceId, { updatedAt: credentials.updatedAt, digest })
    return credentials
  }
}
