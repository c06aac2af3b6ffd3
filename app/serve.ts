import type { Logger } from 'pino'
import type { Config } from './config.js'
import { createLogger } from './logger.js'
import type { RoleName } from './roles/control-plane.js'
import type { RolePorts } from './roles/running-role.js'
import { partsOf, Supervisor } from './supervisor.js'

/**
 * `siteward serve`: the three roles, each in a thread of its own (the worker in two: rules and
 * shipping), until SIGINT/SIGTERM; then stops them cleanly and exits 0. A thread that fails
 * stops the rest, and the exit code is 1. `--role R`: that role's threads alone in this process,
 * against the same data folder (the others run in other processes on the same machine).
 */
export async function serve(config: Config, options: { readonly role?: RoleName } = {}): Promise<number> {
  const logger = createLogger(config.logLevel)
  const engine = new Supervisor(logger, partsOf(options.role))
  let ports: RolePorts
  try {
    ports = await engine.start()
  } catch (error) {
    await engine.stop()
    throw error // a role that cannot start: the error says which and why (exit 1)
  }
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
