import { createServer, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { Aedes, type Client, type PublishPacket, type Subscription } from 'aedes'
import type { Logger } from 'pino'
import { ListenerError } from '../domain/errors.js'
import { LoginThrottle } from '../domain/login-throttle.js'
import type { WriteAheadLog } from '../domain/ports.js'
import type { Backpressure } from './backpressure.js'
import type { DeviceAuthenticator } from './device-auth.js'
import { authError, connackNotAuthorized, DeviceLogin } from './device-login.js'
import { DeviceSessions, maxSubscriptionsPerDevice } from './device-sessions.js'
import type { IngestMetrics } from './ingest-metrics.js'
import type { IngestState } from './ingest-state.js'
import { PublishGate } from './publish-gate.js'
import { markRedeliveriesAsDuplicates } from './redelivery.js'
import { guardPacketLength } from './socket-guard.js'
import { ThrottledLog } from './throttled-log.js'
import { WaitingLogins } from './waiting-logins.js'

export type { IngestMetrics } from './ingest-metrics.js'

import { isAllowedSubscription } from './topics.js'

/** 64 KiB payload (CONTRACT §2.1) plus room for the topic and packet id. */
const maxPacketBytes = 64 * 1024 + 1024
const logIntervalMs = 60_000

export interface BrokerOptions {
  readonly host: string
  readonly port: number
  readonly connectTimeoutMs: number
  readonly maxUnauthenticated: number
  /** Of those, how many one address may hold. */
  readonly maxUnauthenticatedPerAddress: number
  readonly authenticator: DeviceAuthenticator
  readonly state: IngestState
  readonly log: WriteAheadLog
  readonly metrics: IngestMetrics
  readonly logger: Logger
  readonly now?: () => number
  /** Slows, then refuses, publishes while the write-ahead log is near its size limit. */
  readonly backpressure?: Backpressure
  /** A second listener, MQTT over TLS (mqtts), with the same login and ACL. */
  readonly tls?: { readonly port: number; readonly key: Buffer; readonly cert: Buffer }
}

/**
 * The MQTT face of Siteward: Aedes with device authentication, the topic ACL of CONTRACT §2,
 * and the write-ahead log inside `authorizePublish`, the last hook before Aedes sends a QoS 1
 * PUBACK, so a PUBACK always means the message is on disk.
 */
export class Broker {
  private readonly options: BrokerOptions
  private readonly sessions = new DeviceSessions()
  private readonly willTopics = new WeakMap<Client, string>()
  private readonly waiting: WaitingLogins
  private readonly sockets = new Set<Socket>()
  /** The engine is closing the connections itself: that is no device going offline. */
  private stopping = false
  private readonly throttle = new ThrottledLog(logIntervalMs)
  private readonly login: DeviceLogin
  private readonly gate: PublishGate
  private readonly now: () => number
  private aedes: Aedes | null = null
  private server: Server | null = null
  private tlsServer: Server | null = null

  constructor(options: BrokerOptions) {
    this.options = options
    this.now = options.now ?? Date.now
    const { metrics, logger } = options
    const throttle = this.throttle
    this.login = new DeviceLogin({
      authenticator: options.authenticator,
      sessions: this.sessions,
      logins: new LoginThrottle({ now: this.now }),
      metrics,
      logger,
      throttle,
      now: this.now,
    })
    this.gate = new PublishGate({
      state: options.state,
      log: options.log,
      metrics,
      logger,
      throttle,
      now: this.now,
      backpressure: options.backpressure,
    })
    this.waiting = new WaitingLogins(options.maxUnauthenticated, options.maxUnauthenticatedPerAddress)
  }

  get port(): number {
    const address = this.server?.address()
    return typeof address === 'object' && address !== null ? address.port : 0
  }

  get tlsPort(): number {
    const address = this.tlsServer?.address()
    return typeof address === 'object' && address !== null ? address.port : 0
  }

  get connectedClients(): number {
    return this.aedes?.connectedClients ?? 0
  }

  get listening(): boolean {
    return this.server?.listening ?? false
  }

  async start(): Promise<void> {
    const aedes = await Aedes.createBroker({
      connectTimeout: this.options.connectTimeoutMs,
      maxClientsIdLength: 64,
      preConnect: (client, packet, done) => {
        if (packet.will) this.willTopics.set(client, packet.will.topic)
        done(null, true)
      },
      authenticate: (client, username, password, done) => {
        this.login.check(client, username, password, this.willTopics.get(client)).then(
          (result) => done(result === true ? null : result, result === true),
          (error: unknown) => {
            this.options.logger.error({ err: error }, 'authentication failed unexpectedly')
            done(authError('server error', connackNotAuthorized), false)
          },
        )
      },
      authorizePublish: (client, packet, done) => this.authorizePublish(client, packet, done),
      authorizeSubscribe: (client, subscription, done) => this.authorizeSubscribe(client, subscription, done),
    })
    // Aedes' typings omit 'error', but the broker emits it (e.g. persistence failures).
    ;(aedes as unknown as NodeJS.EventEmitter).on('error', (error: Error) =>
      this.options.logger.error({ err: error }, 'broker error'),
    )
    aedes.on('clientError', (client, error) =>
      this.options.logger.debug({ clientId: client.id, err: error.message }, 'client error'),
    )
    aedes.on('client', (client) => {
      this.waiting.delete(client.conn as Socket)
      this.sessions.opened(client)
    })
    aedes.on('unsubscribe', (filters, client) => {
      if (client !== null) this.sessions.released(client.id, filters)
    })
    aedes.on('clientDisconnect', (client) => {
      this.sessions.disconnected(client)
      this.recordDisconnect(client)
    })
    markRedeliveriesAsDuplicates(aedes)
    this.aedes = aedes

    this.server = await this.listen(
      createServer((socket) => this.accept(socket)),
      this.options.port,
      'MQTT',
    )
    this.options.logger.info({ host: this.options.host, port: this.port }, 'MQTT broker listening')
    const tls = this.options.tls
    if (tls !== undefined) {
      const server = createTlsServer(
        { key: tls.key, cert: tls.cert, handshakeTimeout: this.options.connectTimeoutMs },
        (socket) => this.accept(socket),
      )
      // A failed handshake (wrong protocol, bad client) is the client's problem, not an error here.
      server.on('tlsClientError', (error) =>
        this.options.logger.debug({ err: error.message }, 'TLS handshake failed'),
      )
      this.tlsServer = await this.listen(server, tls.port, 'MQTT over TLS')
      this.options.logger.info({ host: this.options.host, port: this.tlsPort }, 'MQTT over TLS listening')
    }
  }

  private async listen(server: Server, port: number, listener: 'MQTT' | 'MQTT over TLS'): Promise<Server> {
    await new Promise<void>((resolve, reject) => {
      const failed = (error: Error) => reject(new ListenerError(listener, this.options.host, port, error))
      server.once('error', failed)
      server.listen(port, this.options.host, () => {
        server.off('error', failed)
        resolve()
      })
    })
    server.on('error', (error) => this.options.logger.error({ err: error }, 'MQTT listener error'))
    return server
  }

  /** Publishes from the engine itself (alerts); not subject to the device ACL. */
  publish(packet: Pick<PublishPacket, 'topic' | 'payload' | 'qos' | 'retain'>): Promise<void> {
    const aedes = this.aedes
    if (aedes === null) return Promise.reject(new Error('broker is not started'))
    return new Promise((resolve, reject) => {
      aedes.publish({ cmd: 'publish', dup: false, ...packet }, (error) => (error ? reject(error) : resolve()))
    })
  }

  /**
   * The engine's own subscription (what devices publish, e.g. their Last Will): for diagnostics
   * and the conformance suite. Resolves to a function that unsubscribes.
   */
  async subscribe(
    filter: string,
    onMessage: (topic: string, payload: Buffer) => void,
  ): Promise<() => Promise<void>> {
    const aedes = this.aedes
    if (aedes === null) throw new Error('broker is not started')
    const handler = (packet: PublishPacket, done: () => void) => {
      onMessage(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload))
      done()
    }
    await new Promise<void>((resolve) => aedes.subscribe(filter, handler, () => resolve()))
    return () => new Promise<void>((resolve) => aedes.unsubscribe(filter, handler, () => resolve()))
  }

  async stop(): Promise<void> {
    this.stopping = true
    const servers = [this.server, this.tlsServer].filter((server) => server !== null)
    const closed = Promise.all(
      servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    )
    for (const socket of this.sockets) socket.destroy() // close() waits for open connections
    await closed
    this.tlsServer = null
    const aedes = this.aedes
    if (aedes !== null) await new Promise<void>((resolve) => aedes.close(() => resolve()))
    this.server = null
    this.aedes = null
  }

  /**
   * Closes every connection whose device was disabled, removed or given a new secret since it
   * logged in (an admin's `device disable` / `device rotate-secret` takes effect at once).
   */
  async recheckCredentials(): Promise<number> {
    const stale = await this.sessions.stale((deviceId) => this.options.authenticator.current(deviceId))
    for (const { client, reason } of stale) {
      this.options.logger.warn({ deviceId: client.id, reason }, `connection closed: the device was ${reason}`)
      client.close()
    }
    return stale.length
  }

  private accept(socket: Socket): void {
    const aedes = this.aedes
    const decision = aedes === null ? null : this.waiting.add(socket)
    if (aedes === null || decision?.kind !== 'admit') {
      this.options.metrics.refused('unauthenticated_cap')
      this.throttle.maybe(`waiting:${socket.remoteAddress}`, this.now(), (suppressed) =>
        this.options.logger.warn(
          {
            remoteAddress: socket.remoteAddress,
            limit: this.options.maxUnauthenticatedPerAddress,
            suppressed,
          },
          'too many connections from one address waiting to log in; refusing more from it',
        ),
      )
      socket.destroy()
      return
    }
    if (decision.evicted !== null) {
      this.options.metrics.refused('unauthenticated_cap')
      this.throttle.maybe('waiting-evicted', this.now(), (suppressed) =>
        this.options.logger.warn(
          { limit: this.options.maxUnauthenticated, suppressed },
          'every login slot taken: closed the connection that waited longest without logging in',
        ),
      )
      decision.evicted.destroy()
    }
    socket.setNoDelay(true)
    this.sockets.add(socket)
    socket.once('close', () => {
      this.sockets.delete(socket)
      this.waiting.delete(socket)
    })
    guardPacketLength(socket, maxPacketBytes, (reason) => {
      this.options.metrics.refused('packet_too_large')
      this.throttle.maybe(`packet:${socket.remoteAddress}`, this.now(), (suppressed) =>
        this.options.logger.warn(
          { remoteAddress: socket.remoteAddress, reason, suppressed },
          'connection closed: packet too large',
        ),
      )
    })
    aedes.handle(socket)
  }

  private authorizePublish(
    client: Client | null,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void {
    const identity = client === null ? undefined : this.sessions.identityOf(client)
    if (client === null || identity === undefined) {
      done(new Error('not authenticated'))
      return
    }
    // The Will of a dying connection: its topic was checked at CONNECT; presence is recorded
    // from the disconnect itself, so the Will needs no ts of its own.
    if (packet === (client as unknown as { will?: unknown }).will) {
      done(null)
      return
    }
    this.gate.pass(identity, packet, done)
  }

  private authorizeSubscribe(
    client: Client,
    subscription: Subscription,
    done: (error: Error | null, subscription?: Subscription | null) => void,
  ): void {
    const identity = this.sessions.identityOf(client)
    if (identity !== undefined && isAllowedSubscription(identity, subscription.topic)) {
      if (this.sessions.mayHold(identity.deviceId, subscription.topic)) {
        done(null, subscription)
        return
      }
      this.throttle.maybe(`subs:${identity.deviceId}`, this.now(), (suppressed) =>
        this.options.logger.warn(
          { deviceId: identity.deviceId, limit: maxSubscriptionsPerDevice, suppressed },
          'subscription refused: the device holds as many as it may',
        ),
      )
    }
    this.options.metrics.refused('subscribe')
    this.options.logger.debug({ clientId: client.id, topic: subscription.topic }, 'subscription refused')
    done(null, null) // SUBACK 0x80 for this filter, the connection stays [MQTT-3.9.3-2]
  }

  private recordDisconnect(client: Client): void {
    const identity = this.sessions.identityOf(client)
    // Devices online at a stop stay so: the next start watches their silence from their last
    // reading (a monitor that never comes back after a deploy is a data gap, not "offline").
    if (identity === undefined || this.stopping) return
    const clean = (client as unknown as { _disconnected?: boolean })._disconnected === true
    this.options.log
      .append({
        type: 'presence',
        receivedAt: this.now(),
        siteId: identity.siteId,
        deviceId: identity.deviceId,
        online: false,
        cause: clean ? 'disconnect' : 'connection_lost',
      })
      .catch((error: unknown) =>
        this.options.logger.error({ err: error, deviceId: identity.deviceId }, 'could not record disconnect'),
      )
  }
}
