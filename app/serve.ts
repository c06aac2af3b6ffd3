import type { Config } from './config.js'
import { Engine } from './engine.js'
import { createLogger } from './logger.js'

/** `siteward serve`: runs the engine until SIGINT/SIGTERM, then stops it cleanly and exits 0. */
export async function serve(config: Config): Promise<number> {
  const logger = createLogger(config.logLevel)
  const engine = new Engine(config, logger)
  await engine.start()
  logger.info(
    {
      mqttPort: engine.mqttPort,
      httpPort: engine.httpPort,
      dataDir: config.dataDir,
      telemetry: config.influx === null ? 'embedded' : config.influx.url,
    },
    `Siteward ready: MQTT on ${engine.mqttPort}, web console on http://localhost:${engine.httpPort}/ (API docs at /docs)`,
  )
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'))
    process.once('SIGTERM', () => resolve('SIGTERM'))
  })
  logger.info({ signal }, 'stopping')
  // CONTRACT §1: stop within 10 s. Ingest stops and the write-ahead log is flushed first; what
  // can hang after that (a telemetry store that does not answer) only delays shipping, and the
  // log still holds it for the next start. So past the deadline, exit anyway.
  const deadline = setTimeout(() => {
    logger.warn(
      { afterMs: shutdownDeadlineMs },
      'shutdown deadline reached; exiting. Everything acknowledged is in the write-ahead log and ships at the next start',
    )
    process.exit(0)
  }, shutdownDeadlineMs)
  deadline.unref()
  await engine.stop()
  clearTimeout(deadline)
  exitWhenIdle(logger)
  return 0
}

/**
 * Everything is stopped and flushed; the process should end by itself now. If a handle still
 * holds the event loop (a socket a hostile client left half-closed, a library's timer), name it
 * in the log and exit anyway: a stop must never leave a process that looks alive but serves
 * nothing.
 */
function exitWhenIdle(logger: ReturnType<typeof createLogger>): void {
  setTimeout(() => {
    const resources = process.getActiveResourcesInfo().filter((name) => name !== 'TTYWrap')
    logger.warn({ resources }, 'still holding handles after the engine stopped; exiting')
    process.exit(0)
  }, lingerAfterStopMs).unref()
}

const lingerAfterStopMs = 500

const shutdownDeadlineMs = 9_000
