// Debian's mosquitto as a benchmark target: anonymous, no persistence, no limit on the queue of
// a slow subscriber (the Node-RED stack subscribes through it and must not lose messages).
import { type ChildProcess, spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../test/helpers/influxd.js'
import { mosquittoBinary, waitForPort } from '../../test/helpers/mosquitto.js'
import { stopChild } from '../proc.js'

export interface RunningBroker {
  readonly port: number
  readonly pid: number
  stop(): Promise<void>
}

export async function startPlainMosquitto(): Promise<RunningBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'siteward-bench-mosquitto-'))
  chmodSync(dir, 0o755) // started as root, mosquitto drops to its own user and must read these
  const port = await freePort()
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_queued_messages 0',
      'max_connections -1',
      'log_dest none',
      '',
    ].join('\n'),
  )
  const child: ChildProcess = spawn(mosquittoBinary() ?? 'mosquitto', ['-c', join(dir, 'mosquitto.conf')], {
    stdio: 'ignore',
  })
  await waitForPort(port, child)
  return {
    port,
    pid: child.pid ?? 0,
    async stop() {
      await stopChild(child)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
