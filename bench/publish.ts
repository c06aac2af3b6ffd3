// Runs bench/publisher.ts in child processes, at most 5,000 connections each: one process may
// hold no more than 20,000 open files here, and one core cannot drive many more connections.

import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { killWithBench } from './proc.js'
import type { PublisherOptions, PublisherResult } from './publisher.js'

const perProcess = 5_000

export interface Publishers {
  readonly pids: number[]
  /** Every connection is up (publishing starts now, or idling does). */
  readonly connected: Promise<void>
  /** The processes' results added up (elapsed: the slowest). */
  readonly result: Promise<PublisherResult>
  /** Ends idle publishers. */
  release(): void
}

function chunks(options: PublisherOptions): PublisherOptions[] {
  const count = Math.max(1, Math.ceil(options.devices.length / perProcess))
  return Array.from({ length: count }, (_, i) => {
    const devices = options.devices.slice(i * perProcess, (i + 1) * perProcess)
    const share = devices.length / options.devices.length
    return {
      ...options,
      devices,
      ...(options.total === undefined ? {} : { total: Math.round(options.total * share) }),
      ...(options.ratePerSecond === undefined ? {} : { ratePerSecond: options.ratePerSecond * share }),
    }
  })
}

function run(options: PublisherOptions) {
  // Thousands of devices with their secrets are too long for a command line: pass a file.
  const file = join(mkdtempSync(join(tmpdir(), 'siteward-publisher-')), 'options.json')
  writeFileSync(file, JSON.stringify(options))
  const child: ChildProcess = killWithBench(
    spawn(process.execPath, ['--import', 'tsx', 'bench/publisher.ts', file], {
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  )
  child.once('exit', () => rmSync(dirname(file), { recursive: true, force: true }))
  let output = ''
  let onConnected: () => void = () => {}
  const connected = new Promise<void>((resolve) => {
    onConnected = resolve
  })
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
    if (output.includes('"connected"')) onConnected()
  })
  const result = new Promise<PublisherResult>((resolve, reject) =>
    child.once('exit', (code) => {
      const line = output.trim().split('\n').at(-1) ?? ''
      if (code === 0 && line.includes('"elapsedMs"')) resolve(JSON.parse(line) as PublisherResult)
      else reject(new Error(`publisher exited ${code}`))
    }),
  )
  return { child, connected: Promise.race([connected, result.then(() => {})]), result }
}

export function startPublishers(options: PublisherOptions): Publishers {
  const runs = chunks(options).map(run)
  const result = Promise.all(runs.map((r) => r.result)).then((results) => ({
    sent: results.reduce((sum, r) => sum + r.sent, 0),
    acked: results.reduce((sum, r) => sum + r.acked, 0),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    elapsedMs: Math.max(...results.map((r) => r.elapsedMs)),
  }))
  // A publisher that fails while the caller still waits for `connected` rejects that too; the
  // caller may never come to `result`, which must not then crash the bench as unhandled.
  result.catch(() => {})
  // A process that connects early must not start early: at province load the first of four was
  // done publishing before the last had connected, and the window saw a fraction of the load.
  const connected = Promise.all(runs.map((r) => r.connected)).then(() => {
    for (const { child } of runs) {
      child.stdin?.on('error', () => {}) // a publisher that died is reported by its exit code
      child.stdin?.write('go\n')
    }
  })
  connected.catch(() => {})
  return {
    pids: runs.map((r) => r.child.pid ?? 0),
    connected,
    result,
    release: () => {
      for (const r of runs) r.child.stdin?.end()
    },
  }
}

/** Burst or paced publishing, start to finish. */
export const publish = (options: PublisherOptions): Promise<PublisherResult> =>
  startPublishers(options).result
