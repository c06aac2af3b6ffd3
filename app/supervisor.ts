import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import { projectRoot } from './project-root.js'
import type { RoleName } from './roles/control-plane.js'
import type { RolePorts } from './roles/running-role.js'

/** What a role's thread tells the supervisor. */
export type ToSupervisor =
  | { readonly type: 'started'; readonly ports: RolePorts }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'stopped' }

/** Started in this order (the edge opens and repairs the log the worker reads). */
const startOrder: readonly RoleName[] = ['edge', 'worker', 'api']
/** Stopped in this one: no new requests, no new messages (all on disk), then project the rest. */
const stopOrder: readonly RoleName[] = ['api', 'edge', 'worker']

/** The thread entry beside this module: the source (.ts) or the compiled build (.js). */
const threadEntry = new URL(
  `./role-thread${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
)
const threadBoot = join(projectRoot(), 'bin', 'siteward-thread.js')

interface RoleThread {
  readonly role: RoleName
  readonly worker: Worker
  readonly exited: Promise<number>
  stopping: boolean
}

/**
 * `siteward serve`: each role in a worker thread of its own, so the edge, the worker and the API
 * each get a core. One process and one PID. A thread that fails, or ends when not told to,
 * stops all the others: never an engine that acknowledges readings nothing evaluates.
 */
export class Supervisor {
  private readonly logger: Logger
  private readonly threads: RoleThread[] = []
  private failure: ((reason: string) => void) | null = null
  /** Resolves with the reason when a role's thread fails after the start. */
  readonly failed: Promise<string>

  constructor(logger: Logger) {
    this.logger = logger
    this.failed = new Promise((resolve) => {
      this.failure = resolve
    })
  }

  /** Starts the roles in order; throws (the role's own message) if one cannot start. */
  async start(): Promise<RolePorts> {
    let ports: RolePorts = { mqttPort: 0, mqttsPort: 0, httpPort: 0 }
    for (const role of startOrder) {
      const started = await this.spawn(role)
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
    for (const role of stopOrder) {
      const thread = this.threads.find((candidate) => candidate.role === role)
      if (thread === undefined) continue
      thread.stopping = true
      thread.worker.postMessage({ type: 'stop' })
      await thread.exited
    }
  }

  private spawn(role: RoleName): Promise<RolePorts> {
    const worker = new Worker(threadBoot, {
      workerData: { entry: threadEntry.href, role, peers: role === 'api' ? ['edge', 'worker'] : [] },
      // stdout and stderr are the process's own: each thread writes its JSON lines directly.
      stdout: false,
      stderr: false,
    })
    const thread: RoleThread = {
      role,
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
        this.logger.fatal({ err: error, role }, `the ${role} role failed`)
        if (!started) reject(error)
        else this.failure?.(`the ${role} role failed: ${error.message}`)
      })
      worker.once('exit', (code) => {
        if (!started) reject(new Error(`the ${role} role ended while starting (exit code ${code})`))
        else if (!thread.stopping) {
          this.logger.fatal({ role, code }, `the ${role} role ended unexpectedly`)
          this.failure?.(`the ${role} role ended unexpectedly (exit code ${code})`)
        }
      })
    })
  }
}
