import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect as connectTcp } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './influxd.js'

export interface RunningMosquitto {
  readonly port: number
  stop(): Promise<void>
}

/** Debian installs the broker in /usr/sbin, which a non-root PATH may lack. */
export function mosquittoBinary(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v mosquitto || command -v /usr/sbin/mosquitto'], {
      encoding: 'utf8',
    }).trim()
  } catch {
    return null
  }
}

export function mosquittoOnPath(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v mosquitto_passwd'], { stdio: 'ignore' })
    return mosquittoBinary() !== null
  } catch {
    return false
  }
}

/**
 * Debian's mosquitto on a free loopback port, with users and an ACL shaped like Siteward's
 * (CONTRACT §2): a device publishes under its own device topic and subscribes to its site's
 * alerts and its own commands; the `engine` user may do anything.
 */
export async function startMosquitto(
  users: Record<string, string>,
  siteId: string,
): Promise<RunningMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'siteward-mosquitto-'))
  chmodSync(dir, 0o755) // started as root, mosquitto drops to its own user and must read these
  const port = await freePort()
  const passwords = join(dir, 'passwd')
  writeFileSync(passwords, '')
  for (const [user, password] of Object.entries(users))
    execFileSync('mosquitto_passwd', ['-b', passwords, user, password])
  writeFileSync(
    join(dir, 'acl'),
    [
      'user engine',
      'topic readwrite #',
      `pattern write sites/${siteId}/devices/%u/+`,
      `pattern read sites/${siteId}/alerts/#`,
      `pattern read sites/${siteId}/devices/%u/commands`,
      `pattern read sites/${siteId}/devices/%u/commands/#`,
      '',
    ].join('\n'),
  )
  return runMosquitto(dir, port, [
    'allow_anonymous false',
    `password_file ${passwords}`,
    `acl_file ${join(dir, 'acl')}`,
  ])
}

/**
 * Writes `mosquitto.conf` in `dir` (a loopback listener on `port`, no persistence, no log, plus
 * `settings`), starts the broker and resolves once it accepts connections; `stop` removes `dir`.
 */
export async function runMosquitto(
  dir: string,
  port: number,
  settings: readonly string[],
): Promise<RunningMosquitto & { readonly pid: number }> {
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [`listener ${port} 127.0.0.1`, ...settings, 'persistence false', 'log_dest none', ''].join('\n'),
  )
  const child: ChildProcess = spawn(mosquittoBinary() ?? 'mosquitto', ['-c', join(dir, 'mosquitto.conf')], {
    stdio: 'ignore',
  })
  await waitForPort(port, child)
  return {
    port,
    pid: child.pid ?? 0,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Resolves once the broker's port accepts connections (about 5 s at most). */
export async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connectTcp(port, '127.0.0.1', () => {
        socket.destroy()
        resolve(true)
      })
      socket.on('error', () => resolve(false))
    })
    if (open) return
    if (attempt > 100 || child.exitCode !== null) throw new Error('mosquitto did not start')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
