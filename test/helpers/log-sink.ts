import { Writable } from 'node:stream'
import type { Logger } from 'pino'
import { createLogger } from '../../app/logger.js'

export interface LogLine {
  level: number
  msg: string
  [key: string]: unknown
}

/** A pino logger writing into memory, so tests assert on log lines instead of reading them. */
export function memoryLogger(level = 'debug'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString().split('\n'))
        if (text !== '') lines.push(JSON.parse(text) as LogLine)
      callback()
    },
  })
  return { logger: createLogger(level, sink), lines }
}
