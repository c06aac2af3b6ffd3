import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RunningInfluxd {
  readonly url: string
  readonly port: number
  readonly pid: number
  stop(): Promise<void>
}

/** The configuration users run (infra/run-influxdb.sh), with its placeholders. */
const configTemplate = join(import.meta.dirname, '..', '..', 'infra', 'influxdb', 'influxdb.conf')

export function influxdOnPath(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v influxd'], { encoding: 'utf8' }).trim() || null
  } catch {
    return null
  }
}

/** `count` distinct free ports: all held open together while they are picked. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer()
          server.once('error', reject)
          server.listen(0, '127.0.0.1', () => resolve(server))
        }),
    ),
  )
  const ports = servers.map((server) => {
    const address = server.address()
    return typeof address === 'object' && address !== null ? address.port : 0
  })
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  return ports
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/**
 * A throw-away influxd (Debian's `influxdb` package, 1.6) in a temporary directory on free
 * loopback ports. `httpPort` may be given to bring one up where an engine already expects it.
 */
export async function startInfluxd(
  options: { httpPort?: number; dir?: string } = {},
): Promise<RunningInfluxd> {
  // A port free when asked may be taken before influxd binds it (a connection's local port, or
  // the same number handed out twice): with ports of its own choosing, try again on new ones.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startInfluxdOnce(options)
    } catch (error) {
      const taken = error instanceof Error && /address already in use/.test(error.message)
      if (!taken || options.httpPort !== undefined || attempt === 3) throw error
    }
  }
}

async function startInfluxdOnce(options: { httpPort?: number; dir?: string }): Promise<RunningInfluxd> {
  const binary = influxdOnPath()
  if (binary === null) throw new Error('influxd is not on PATH (apt-get install influxdb)')
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'siteward-influxd-'))
  const picked = await freePorts(2)
  const httpPort = options.httpPort ?? (picked[0] as number)
  const rpcPort = picked[1] as number
  const config = join(dir, 'influxdb.conf')
  writeFileSync(
    config,
    readFileSync(configTemplate, 'utf8')
      .replaceAll('@DIR@', dir)
      .replaceAll('@HTTP_BIND@', '127.0.0.1')
      .replaceAll('@HTTP_PORT@', String(httpPort))
      .replaceAll('@RPC_PORT@', String(rpcPort)),
  )
  const child: ChildProcess = spawn(binary, ['-config', config], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const url = `http://127.0.0.1:${httpPort}`
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) {
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true })
      throw new Error(`influxd exited (${child.exitCode}): ${stderr}`)
    }
    try {
      const response = await fetch(`${url}/ping`)
      if (response.status === 204) break
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`influxd did not answer /ping within 20 s: ${stderr}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    url,
    port: httpPort,
    pid: child.pid ?? 0,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))])
        if (child.exitCode === null) child.kill('SIGKILL')
      }
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true })
    },
  }
}
