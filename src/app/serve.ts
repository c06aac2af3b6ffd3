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
    `Siteward ready: MQTT on ${engine.mqttPort}, API on http://localhost:${engine.httpPort} (docs at /docs)`,
  )
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'))
    process.once('SIGTERM', () => resolve('SIGTERM'))
  })
  logger.info({ signal }, 'stopping')
  await engine.stop()
  return 0
}
