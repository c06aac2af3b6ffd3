import type { Socket } from 'node:net'
import type { AuthenticateError, Client } from 'aedes'
import type { Logger } from 'pino'
import type { LoginThrottle } from '../domain/login-throttle.js'
import type { DeviceAuthenticator } from './device-auth.js'
import type { DeviceSessions } from './device-sessions.js'
import type { IngestMetrics } from './ingest-metrics.js'
import type { ThrottledLog } from './throttled-log.js'
import { type DeviceIdentity, isAllowedWillTopic } from './topics.js'

/** CONNACK return codes [MQTT-3.2.2-3]; Aedes' AuthErrorCode is a const enum we cannot import. */
export const connackBadCredentials = 4
export const connackNotAuthorized = 5

export interface DeviceLoginParts {
  readonly authenticator: DeviceAuthenticator
  readonly sessions: DeviceSessions
  readonly logins: LoginThrottle
  readonly metrics: IngestMetrics
  readonly logger: Logger
  readonly throttle: ThrottledLog
  readonly now: () => number
}

/**
 * A device's CONNECT (CONTRACT §2): the client id is the device id, the secret is checked first
 * (a right one logs in at once, whatever others guess), wrong guesses are slowed per device and
 * per address, a disabled device is refused, and a Last Will may only announce the device's own
 * status. A device that passes is bound to its identity in `sessions`.
 */
export class DeviceLogin {
  private readonly parts: DeviceLoginParts

  constructor(parts: DeviceLoginParts) {
    this.parts = parts
  }

  async check(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    willTopic: string | undefined,
  ): Promise<true | AuthenticateError> {
    const { metrics, throttle, logger, now, logins } = this.parts
    const refuse = (reason: string, code: number) => {
      metrics.refused('auth')
      throttle.maybe(`auth:${username ?? ''}`, now(), (suppressed) =>
        logger.warn({ clientId: client.id, username, reason, suppressed }, 'device login refused'),
      )
      return authError(reason, code)
    }
    if (username === undefined || password === undefined)
      return refuse('username and password are required', connackBadCredentials)
    if (client.id !== username)
      return refuse('client id must equal the device id (username)', connackNotAuthorized)
    const address = (client.conn as Socket).remoteAddress ?? 'unknown'
    const credentials = await this.parts.authenticator.verify(username, password.toString('utf8'))
    if (credentials === null) {
      const holdMs = logins.failed(username, address)
      if (logins.isSlowed(address)) metrics.refused('login_lockout')
      // unref: a wrong login waiting for its answer must not keep a stopping engine alive.
      if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs).unref())
      return refuse('unknown device or wrong secret', connackBadCredentials)
    }
    if (credentials.disabledAt !== null)
      return refuse(`device ${credentials.id} is disabled by an admin`, connackNotAuthorized)
    const identity: DeviceIdentity = {
      deviceId: credentials.id,
      siteId: credentials.siteId,
      kind: credentials.kind,
    }
    if (willTopic !== undefined && !isAllowedWillTopic(identity, willTopic)) {
      return refuse(
        `Last Will may only target the device's own status topic, not ${willTopic}`,
        connackNotAuthorized,
      )
    }
    this.parts.sessions.loggedIn(client, identity, credentials.updatedAt)
    return true
  }
}

export function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError
}
