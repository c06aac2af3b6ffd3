// Debian's mosquitto as a benchmark target: anonymous, no persistence, no limit on the queue of
// a slow subscriber (the Node-RED stack subscribes through it and must not lose messages).
import { chmodSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../test/helpers/influxd.js'
import { runMosquitto } from '../../test/helpers/mosquitto.js'

export interface RunningBroker {
  readonly port: number
  readonly pid: number
  stop(): Promise<void>
}

export async function startPlainMosquitto(): Promise<RunningBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'siteward-bench-mosquitto-'))
  chmodSync(dir, 0o755) // started as root, mosquitto drops to its own user and must read these
  return runMosquitto(dir, await freePort(), [
    'allow_anonymous true',
    'max_queued_messages 0',
    'max_connections -1',
  ])
}
