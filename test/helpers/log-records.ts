import type { LogRecord } from '../../domain/log-record.js'

/** The smallest log record: a device going offline. */
export const presenceRecord = (deviceId: string, receivedAt: number): LogRecord => ({
  type: 'presence',
  receivedAt,
  siteId: 'S1',
  deviceId,
  online: false,
  cause: 'disconnect',
})
