import type { Logger } from 'pino'
import type { Config } from './config.js'
import { consoleBuildDir, tlsOf } from './engine.js'
import { createLogger } from './logger.js'
import type { RoleName } from './roles/control-plane.js'
import { type RolePorts, runningRole } from './roles/running-role.js'
import { Supervisor } from './supervisor.js'

/**
 * `siteward serve`: the three roles, each in a thread of its own, until SIGINT/SIGTERM; then
 * stops them cleanly and exits 0. A role that fails stops the rest, and the exit code is 1.
 * `--role R`: that role alone in this process, against the same data folder (the others run
 * elsewhere, on the same machine).
 */
export async function serve(config: Config, options: { readonly role?: RoleName } = {}): Promise<number> {
  const logger = createLogger(config.logLevel)
  const engine =
    options.role === undefined ? threadedEngine(logger) : singleRole(options.role, config, logger)
  const ports = await engine.start() // a role that cannot start: the error says which and why (exit 1)
  logger.info(
    {
      ...(options.role === undefined ? {} : { role: options.role }),
      mqttPort: ports.mqttPort,
      httpPort: ports.httpPort,
      dataDir: config.dataDir,
      telemetry: config.influx === null ? 'embedded' : config.influx.url,
    },
    readyLine(options.role, ports),
  )
  const outcome = await Promise.race([
    new Promise<{ signal: NodeJS.Signals }>((resolve) => {
      process.once('SIGINT', () => resolve({ signal: 'SIGINT' }))
      process.once('SIGTERM', () => resolve({ signal: 'SIGTERM' }))
    }),
    engine.failed.then((reason) => ({ failed: reason })),
  ])
  if ('signal' in outcome) logger.info({ signal: outcome.signal }, 'stopping')
  else logger.fatal({ reason: outcome.failed }, 'a role failed; stopping the others')
  // CONTRACT §1: stop within 10 s. Ingest stops and the write-ahead log is flushed first; what
  // can hang after that (a telemetry store that does not answer) only delays shipping, and the
  // log still holds it for the next start. So past the deadline, exit anyway.
  const code = 'signal' in outcome ? 0 : 1
  const deadline = setTimeout(() => {
    logger.warn(
      { afterMs: shutdownDeadlineMs },
      'shutdown deadline reached; exiting. Everything acknowledged is in the write-ahead log and ships at the next start',
    )
    process.exit(code)
  }, shutdownDeadlineMs)
  deadline.unref()
  await engine.stop()
  clearTimeout(deadline)
  logger.info('engine stopped')
  exitWhenIdle(logger, code)
  return code
}

interface ServedEngine {
  start(): Promise<RolePorts>
  stop(): Promise<void>
  /** Resolves with a reason when a role fails after the start (never, for one role alone). */
  readonly failed: Promise<string>
}

function threadedEngine(logger: Logger): ServedEngine {
  const supervisor = new Supervisor(logger)
  return {
    start: async () => {
      try {
        return await supervisor.start()
      } catch (error) {
        await supervisor.stop()
        throw error
      }
    },
    stop: () => supervisor.stop(),
    failed: supervisor.failed,
  }
}

function singleRole(role: RoleName, config: Config, logger: Logger): ServedEngine {
  // Alone in its process it shows its own readiness and metrics only.
  const running = runningRole(role, config, logger.child({ role }), {
    tls: tlsOf(config),
    consoleDir: consoleBuildDir,
    peers: [],
  })
  return {
    start: async () => {
      try {
        return await running.start()
      } catch (error) {
        await running.stop().catch(() => undefined)
        throw error
      }
    },
    stop: () => running.stop(),
    failed: new Promise<string>(() => undefined),
  }
}

function readyLine(role: RoleName | undefined, ports: RolePorts): string {
  switch (role) {
    case undefined:
      return `Siteward ready: MQTT on ${ports.mqttPort}, web console on http://localhost:${ports.httpPort}/ (API docs at /docs)`
    case 'edge':
      return `Siteward ready (edge role): MQTT on ${ports.mqttPort}`
    case 'worker':
      return 'Siteward ready (worker role): projecting the log, evaluating rules, shipping telemetry'
    case 'api':
      return `Siteward ready (api role): web console on http://localhost:${ports.httpPort}/ (API docs at /docs)`
  }
}

/**
 * Everything is stopped and flushed; the process should end by itself now. If a handle still
 * holds the event loop (a socket a hostile client left half-closed, a library's timer), name it
 * in the log and exit anyway: a stop must never leave a process that looks alive but serves
 * nothing.
 */
function exitWhenIdle(logger: Logger, code: number): void {
  setTimeout(() => {
    const resources = process.getActiveResourcesInfo().filter((name) => name !== 'TTYWrap')
    logger.warn({ resources }, 'still holding handles after the engine stopped; exiting')
    process.exit(code)
  }, lingerAfterStopMs).unref()
}

const lingerAfterStopMs = 500

const shutdownDeadlineMs = 9_000
