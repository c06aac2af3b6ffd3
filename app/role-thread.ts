import { parentPort, threadId, workerData } from 'node:worker_threads'
import { loadConfig } from './config.js'
import { consoleBuildDir, tlsOf } from './engine.js'
import { createLogger } from './logger.js'
import type { PartName } from './roles/control-plane.js'
import { type RunningRole, runningRole } from './roles/running-role.js'
import type { ToSupervisor } from './supervisor.js'

/**
 * A thread of `siteward serve` (app/supervisor.ts): builds its role (or the worker's shipper)
 * from the same SITEWARD_* environment, starts it, reports its ports, and stops it when told. A
 * failure to start is reported and ends the thread with code 1; anything thrown later ends it
 * too, and the supervisor stops the rest.
 */
const { part, peers } = workerData as { part: PartName; peers: PartName[] }
const port = parentPort
if (port === null) throw new Error('app/role-thread.ts runs only as a worker thread of siteward serve')
const tell = (message: ToSupervisor) => port.postMessage(message)

const config = loadConfig()
const logger = createLogger(config.logLevel).child({ role: part })
let running: RunningRole | null = null

port.on('message', (message: { type: 'stop' }) => {
  if (message.type !== 'stop') return
  void (running?.stop() ?? Promise.resolve()).then(
    () => {
      tell({ type: 'stopped' })
      port.close()
      endWhenIdle()
    },
    (error: unknown) => {
      logger.error({ err: error }, 'stopping the role failed')
      process.exit(1)
    },
  )
})

/**
 * The role is stopped and flushed; the thread should end by itself now. A request still in
 * flight (InfluxDB's CREATE DATABASE at start waits its 10 s timeout) must not hold the whole
 * engine's exit, so name what lingers and end the thread anyway.
 */
function endWhenIdle(): void {
  setTimeout(() => {
    logger.debug(
      { resources: process.getActiveResourcesInfo() },
      'still holding handles after the stop; ending the thread',
    )
    process.exit(0)
  }, lingerAfterStopMs).unref()
}

const lingerAfterStopMs = 300

try {
  running = runningRole(part, config, logger, {
    tls: tlsOf(config),
    consoleDir: consoleBuildDir,
    peers,
    // Ends this thread with code 1, at start or later: the supervisor stops the other threads.
    onFatal: (error) => {
      tell({ type: 'failed', message: error.message })
      process.exit(1)
    },
  })
  const ports = await running.start()
  const who = part === 'shipper' ? "the worker role's shipper" : `the ${part} role`
  logger.info({ threadId }, `${who} started in its own thread`)
  tell({ type: 'started', ports })
} catch (error) {
  tell({ type: 'failed', message: error instanceof Error ? error.message : String(error) })
  await running?.stop().catch(() => undefined)
  process.exit(1)
}
