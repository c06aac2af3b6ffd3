import { type DestinationStream, type Logger, pino } from 'pino'

/** JSON lines on stdout (CONTRACT §1.1); tests pass an in-memory destination. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, base: { service: 'siteward' }, timestamp: pino.stdTimeFunctions.isoTime }
  return destination === undefined ? pino(options) : pino(options, destination)
}
