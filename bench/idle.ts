// Memory per idle connection (issue 6): the target's resident memory before and after 1,000 or
// 10,000 devices connect and stay silent, divided by the connections.
import { rssBytes, say, sleep } from './proc.js'
import { startPublishers } from './publish.js'
import { startTarget, type TargetContext, type TargetName } from './targets/index.js'

export interface IdleRun {
  readonly target: TargetName
  readonly connections: number
  readonly baseRssMiB: number
  readonly rssMiB: number
  readonly bytesPerConnection: number
}

const rss = (pids: number[]) => pids.reduce((sum, pid) => sum + rssBytes(pid), 0)

/**
 * Resident memory once it holds still (two samples a second apart within 1 MiB, at most 20 s):
 * Siteward's four threads were still loading and collecting 2 s after start, so its memory fell
 * while 1,000 devices connected and the figure came out negative (2026-12-04).
 */
async function settledRss(pids: () => number[]): Promise<number> {
  let last = rss(pids())
  for (let i = 0; i < 20; i++) {
    await sleep(1_000)
    const now = rss(pids())
    if (Math.abs(now - last) < 1024 ** 2) return now
    last = now
  }
  return last
}

export async function measureIdle(
  name: TargetName,
  connections: number,
  context: TargetContext,
): Promise<IdleRun> {
  const target = await startTarget(name, connections, context)
  try {
    const before = await settledRss(() => target.pids())
    say(`idle: ${name}: ${connections.toLocaleString('en')} connections…`)
    const publishers = startPublishers({ url: target.url, devices: target.devices, mode: 'idle', qos: 1 })
    await publishers.connected
    const after = await settledRss(() => target.pids())
    publishers.release()
    await publishers.result
    const run = {
      target: name,
      connections,
      baseRssMiB: before / 1024 ** 2,
      rssMiB: after / 1024 ** 2,
      bytesPerConnection: (after - before) / connections,
    }
    say(`idle: ${name}: ${(run.bytesPerConnection / 1024).toFixed(1)} KiB per connection`)
    return run
  } finally {
    await target.stop()
  }
}
