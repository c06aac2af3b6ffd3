import { randomUUID } from 'node:crypto'
import { BroadcastChannel } from 'node:worker_threads'
import type { ReadinessCheck } from '../../api/services.js'
import { threadCpuSeconds, threadProcPath } from './thread-cpu.js'

/** The three roles (issue 14). */
export type RoleName = 'edge' | 'worker' | 'api'
/** What runs in a thread of its own: a role, or the worker role's shipping half (app/roles/shipper.ts). */
export type PartName = RoleName | 'shipper'

/** What a role tells about itself for /readyz and /metrics. */
export interface RoleReport {
  readiness(): Promise<readonly ReadinessCheck[]>
  /** Prometheus text exposition of the role's own registry. */
  metrics(): Promise<string>
}

type Question = { readonly kind: 'ask'; readonly id: string; readonly what: 'readiness' | 'metrics' }
type Reply = {
  readonly kind: 'reply'
  readonly id: string
  readonly role: PartName
  readonly readiness?: readonly ReadinessCheck[]
  readonly metrics?: string
  /** With metrics: the CPU seconds its thread has used (null where it cannot be read). */
  readonly cpuSeconds?: number | null
  /** With metrics: its thread's /proc entry, for when it is too busy to answer next time. */
  readonly threadPath?: string | null
  readonly error?: string
}

/** A role that does not answer in this time is reported as not answering. */
const answerTimeoutMs = 1_000

/**
 * How the API learns what the other roles of this data folder report, whichever thread of the
 * process they run in: a question on a BroadcastChannel and one reply per role. Only reports
 * travel here; readings and alerts go through the log and the store.
 */
export class ControlPlane {
  private readonly channel: BroadcastChannel
  private readonly waiting = new Map<string, (reply: Reply) => void>()
  private readonly threads = new Map<PartName, string>()

  constructor(dataDir: string, role: PartName, report: RoleReport) {
    this.channel = new BroadcastChannel(`siteward.control:${dataDir}`)
    this.channel.unref()
    this.channel.onmessage = (event) => {
      const message = (event as { data: Question | Reply }).data
      if (message.kind === 'reply') {
        if (typeof message.threadPath === 'string') this.threads.set(message.role, message.threadPath)
        this.waiting.get(message.id)?.(message)
      } else void this.answer(role, report, message)
    }
  }

  /** The roles' replies, by role; a role that did not answer within 1 s is missing. */
  ask(what: Question['what'], roles: readonly PartName[]): Promise<Map<PartName, Reply>> {
    const replies = new Map<PartName, Reply>()
    if (roles.length === 0) return Promise.resolve(replies)
    const id = randomUUID()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.waiting.delete(id)
        resolve(replies)
      }
      const timer = setTimeout(done, answerTimeoutMs)
      this.waiting.set(id, (reply) => {
        if (!roles.includes(reply.role)) return
        replies.set(reply.role, reply)
        if (replies.size === roles.length) done()
      })
      this.channel.postMessage({ kind: 'ask', id, what } satisfies Question)
    })
  }

  /** The /proc entry of a role's thread, from the last time it answered a metrics question. */
  threadOf(role: PartName): string | undefined {
    return this.threads.get(role)
  }

  close(): void {
    this.channel.close() // questions still open resolve at their timeout
  }

  private async answer(role: PartName, report: RoleReport, question: Question): Promise<void> {
    let reply: Reply
    try {
      reply =
        question.what === 'readiness'
          ? { kind: 'reply', id: question.id, role, readiness: await report.readiness() }
          : {
              kind: 'reply',
              id: question.id,
              role,
              metrics: await report.metrics(),
              cpuSeconds: threadCpuSeconds(), // read here, on the role's own thread
              threadPath: threadProcPath(),
            }
    } catch (error) {
      reply = { kind: 'reply', id: question.id, role, error: (error as Error).message }
    }
    try {
      this.channel.postMessage(reply)
    } catch {
      // closed while answering (the role is stopping): the asker reports it as not answering
    }
  }
}
