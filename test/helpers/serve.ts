import { type ChildProcess, spawn } from 'node:child_process'

export interface ServeProcess {
  readonly child: ChildProcess
  readonly mqttPort: number
  readonly httpPort: number
  /** Everything it wrote on stdout so far (JSON log lines). */
  output(): string
}

/**
 * `siteward serve` as a child process (one PID to stop), on loopback and free ports unless the
 * environment says otherwise; resolves once it logs that it is ready.
 */
export function spawnServe(
  env: Record<string, string>,
  options: {
    readonly nodeArgs?: readonly string[]
    readonly compiled?: boolean
    /** After `serve`: `['--role', 'edge']`. */
    readonly args?: readonly string[]
  } = {},
): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      // `compiled`: what `npm start` runs (bin/siteward.js takes dist/ when it is built).
      ...(options.compiled === true ? ['bin/siteward.js'] : ['--import', 'tsx', 'app/main.ts']),
      'serve',
      ...(options.args ?? []),
    ],
    {
      env: {
        ...process.env,
        SITEWARD_MQTT_HOST: '127.0.0.1',
        SITEWARD_MQTT_PORT: '0',
        SITEWARD_HTTP_HOST: '127.0.0.1',
        SITEWARD_HTTP_PORT: '0',
        SITEWARD_LOG_LEVEL: 'info',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  return new Promise((resolve, reject) => {
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const line = output.split('\n').find((l) => l.includes('Siteward ready'))
      if (line !== undefined)
        resolve({
          child,
          ...(JSON.parse(line) as { mqttPort: number; httpPort: number }),
          output: () => output,
        })
    })
    child.once('exit', (code) => reject(new Error(`siteward serve exited early (${code})`)))
  })
}

/** SIGTERM, then wait for the exit. */
export async function stopServe(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}
