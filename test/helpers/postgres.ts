import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { freePorts } from './influxd.js'

export interface RunningPostgres {
  /** postgres://… of a database made for the run (`siteward_test`). */
  readonly url: string
  readonly port: number
  readonly pid: number
  stop(): Promise<void>
}

/** Debian's `postgresql` puts its server programs under /usr/lib/postgresql/VERSION/bin. */
export function postgresBinDir(): string | null {
  const fromEnv = process.env.SITEWARD_PG_BINDIR
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return null
  const versions = readdirSync(root)
    .filter((version) => existsSync(join(root, version, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))
  return versions[0] === undefined ? null : join(root, versions[0], 'bin')
}

type Wrap = (program: string, args: string[]) => [string, string[]]

/**
 * initdb refuses to run as root: as root, the server's programs run as Debian's `postgres`
 * user (setpriv execs, so the server is one process with one PID to stop); otherwise as we are.
 */
function serverUser(): { readonly uid: number; readonly gid: number; readonly wrap: Wrap } | null {
  if (process.getuid?.() !== 0) return null
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
  const wrap: Wrap = (program, args) => [
    'setpriv',
    [`--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--reset-env', program, ...args],
  ]
  return { uid, gid, wrap }
}

/**
 * A throw-away PostgreSQL (Debian's `postgresql`, 15) in a temporary folder on a free loopback
 * port, its socket in that folder too, with a database for the tests; `stop()` shuts it down
 * (fast) and removes the folder. The InfluxDB helper's way, for issue 15's contract suites.
 */
export async function startPostgres(): Promise<RunningPostgres> {
  const bin = postgresBinDir()
  if (bin === null) throw new Error('no PostgreSQL server programs (apt-get install postgresql)')
  const user = serverUser()
  const wrap: Wrap = user?.wrap ?? ((program, args) => [program, args])
  const dir = mkdtempSync(join(tmpdir(), 'siteward-postgres-'))
  const data = join(dir, 'data')
  mkdirSync(data, { mode: 0o700 })
  if (user !== null) {
    chownSync(dir, user.uid, user.gid)
    chownSync(data, user.uid, user.gid)
  }
  const run = (program: string, args: string[]) => {
    const [command, commandArgs] = wrap(join(bin, program), args)
    execFileSync(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir })
  }
  try {
    run('initdb', ['-D', data, '-U', 'siteward', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'])
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? ''
    throw new Error(`initdb failed: ${stderr || (error as Error).message}`)
  }
  for (let attempt = 1; ; attempt++) {
    const [port] = (await freePorts(1)) as [number]
    try {
      return await serve(bin, wrap, dir, data, port)
    } catch (error) {
      const taken = error instanceof Error && /already in use/.test(error.message)
      if (!taken || attempt === 3) {
        rmSync(dir, { recursive: true, force: true })
        throw error
      }
    }
  }
}

async function serve(
  bin: string,
  wrap: Wrap,
  dir: string,
  data: string,
  port: number,
): Promise<RunningPostgres> {
  const [command, args] = wrap(join(bin, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${dir}`,
  ])
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const admin = `postgres://siteward@127.0.0.1:${port}/postgres`
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited (${child.exitCode}): ${stderr}`)
    const client = new pg.Client({ connectionString: admin })
    try {
      await client.connect()
      await client.query('CREATE DATABASE siteward_test')
      await client.end()
      break
    } catch {
      await client.end().catch(() => {})
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`postgres did not accept connections within 30 s: ${stderr}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    url: `postgres://siteward@127.0.0.1:${port}/siteward_test`,
    port,
    pid: child.pid ?? 0,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGINT') // fast shutdown: open sessions are ended, nothing waits
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))])
        if (child.exitCode === null) child.kill('SIGKILL')
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
