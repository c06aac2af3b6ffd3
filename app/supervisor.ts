import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import { projectRoot } from './project-root.js'
import type { PartName, RoleName } from './roles/control-plane.js'
import type { RolePorts } from './roles/running-role.js'

/** What a role's thread tells the supervisor. */
export type ToSupervisor =
  | { readonly type: 'started'; readonly ports: RolePorts }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'stopped' }

/** Started in this order (the edge opens and repairs the log the worker reads). */
const startOrder: readonly PartName[] = ['edge', 'worker', 'shipper', 'api']
/**
 * Stopped in this one: no new requests, no new messages (all on disk), project the rest (its
 * alerts committed), then ship what the store takes.
 */
const stopOrder: readonly PartName[] = ['api', 'edge', 'worker', 'shipper']

/** The threads of `siteward serve` (every part), or of `serve --role R` (that role's parts). */
export function partsOf(role?: RoleName): readonly PartName[] {
  switch (role) {
    case undefined:
      return startOrder
    case 'worker':
      return ['worker', 'shipper'] // the rules never wait behind the shipping (issue 14)
    default:
      return [role]
  }
}

/** The thread entry beside this module: the source (.ts) or the compiled build (.js). */
const threadEntry = new URL(
  `./role-thread${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
)
const threadBoot = join(projectRoot(), 'bin', 'siteward-thread.js')

interface PartThread {
  readonly part: PartName
  readonly worker: Worker
  readonly exited: Promise<number>
  stopping: boolean
}

/**
 * `siteward serve`: each role in a worker thread of its own (the worker's rules and its shipping
 * in two), so they each get a core. One process and one PID. A thread that fails, or ends when
 * not told to, stops all the others: never an engine that acknowledges readings nothing
 * evaluates.
 */
export class Supervisor {
  private readonly logger: Logger
  private readonly parts: readonly PartName[]
  private readonly threads: PartThread[] = []
  private failure: ((reason: string) => void) | null = null
  /** Resolves with the reason when a role's thread fails after the start. */
  readonly failed: Promise<string>

  constructor(logger: Logger, parts: readonly PartName[]) {
    this.logger = logger
    this.parts = parts
    this.failed = new Promise((resolve) => {
      this.failure = resolve
    })
  }

  /** Starts the roles in order; throws (the role's own message) if one cannot start. */
  async start(): Promise<RolePorts> {
    let ports: RolePorts = { mqttPort: 0, mqttsPort: 0, httpPort: 0 }
    for (const part of startOrder.filter((candidate) => this.parts.includes(candidate))) {
      const started = await this.spawn(part)
      ports = {
        mqttPort: ports.mqttPort || started.mqttPort,
        mqttsPort: ports.mqttsPort || started.mqttsPort,
        httpPort: ports.httpPort || started.httpPort,
      }
    }
    return ports
  }

  /** Stops every running role, in stop order, each after the one before has finished. */
  async stop(): Promise<void> {
    for (const part of stopOrder) {
      const thread = this.threads.find((candidate) => candidate.part === part)
      if (thread === undefined) continue
      thread.stopping = true
      thread.worker.postMessage({ type: 'stop' })
      await thread.exited
    }
  }

  private spawn(part: PartName): Promise<RolePorts> {
    const worker = new Worker(threadBoot, {
      workerData: {
        entry: threadEntry.href,
        part,
        peers: part === 'api' ? this.parts.filter((other) => other !== 'api') : [],
      },
      // stdout and stderr are the process's own: each thread writes its JSON lines directly.
      stdout: false,
      stderr: false,
    })
    const thread: PartThread = {
      part,
      worker,
      stopping: false,
      exited: new Promise((resolve) => worker.once('exit', resolve)),
    }
    this.threads.push(thread)
    return new Promise((resolve, reject) => {
      let started = false
      worker.on('message', (message: ToSupervisor) => {
        if (message.type === 'started') {
          started = true
          resolve(message.ports)
        } else if (message.type === 'failed') reject(new Error(message.message))
      })
      worker.on('error', (error) => {
        this.logger.fatal({ err: error, part }, `the ${part} thread failed`)
        if (!started) reject(error)
        else this.failure?.(`the ${part} thread failed: ${error.message}`)
      })
      worker.once('exit', (code) => {
        if (!started) reject(new Error(`the ${part} thread ended while starting (exit code ${code})`))
        else if (!thread.stopping) {
          this.logger.fatal({ part, code }, `the ${part} thread ended unexpectedly`)
          this.failure?.(`the ${part} thread ended unexpectedly (exit code ${code})`)
        }
      })
    })
  }
}
