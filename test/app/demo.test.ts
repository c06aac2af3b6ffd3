import { describe, expect, it } from 'vitest'
import { runDemo } from '../../app/demo.js'
import { waitFor } from '../helpers/engine.js'

describe('npm run demo', () => {
  it('shows alerts raised, escalated and acknowledged by the scripted responder, and stops cleanly', async () => {
    const lines: string[] = []
    const stop = new AbortController()
    const demo = runDemo({
      mqttPort: 0,
      httpPort: 0,
      ackDeadlines: 'critical=2s,alarm=2s,warning=2s', // the engine checks deadlines every 5 s
      ackAfterMs: 9_000,
      craneIntervalMs: 200,
      say: (line) => lines.push(line),
      signal: stop.signal,
    })
    const has = (start: string) => lines.some((line) => line.startsWith(start))
    try {
      await waitFor(() => has('raised'), 'a raised alert', 20_000)
      await waitFor(() => has('escalated'), 'an escalation', 20_000)
      await waitFor(() => has('acknowledged'), "the responder's acknowledgement", 20_000)
    } finally {
      stop.abort()
      await demo
    }
    expect(lines[0]).toMatch(
      /Siteward demo running\.\n {2}console: +http:\/\/localhost:\d+\/ .*\n {2}API docs: +http:\/\/localhost:\d+\/docs/,
    )
    expect(lines[0]).toMatch(/supervisor: +\S+/)
    expect(lines[0]).toMatch(/admin token: +swt_/)
    expect(lines.at(-1)).toBe('Siteward demo stopped.')
  }, 90_000)
})
