// `npm run reliability:crash`: the full crash run for RELIABILITY.md
// (CRASH_MESSAGES, default 100,000; CRASH_KILLS, default 20; CRASH_DEVICES, default 20).
import { crashHarness } from './crash-harness.js'

const say = (text: string) => process.stderr.write(`[crash] ${text}\n`)
const messages = Number(process.env.CRASH_MESSAGES ?? 100_000)
const kills = Number(process.env.CRASH_KILLS ?? 20)
const devices = Number(process.env.CRASH_DEVICES ?? 20)
say(`${messages} QoS 1 messages from ${devices} devices, SIGKILL ${kills} times`)
const result = await crashHarness({ messages, kills, devices, say })
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
const ok =
  result.kills >= kills &&
  result.lostInInflux === 0 &&
  result.miscountedDevices === 0 &&
  result.lostAcknowledgements === 0 &&
  result.duplicateOpenAlerts === 0 &&
  result.brokenTimelines === 0 &&
  result.inconsistentEscalations === 0 &&
  result.devicesWithBreachButNoAlert === 0
say(ok ? 'passed: nothing acknowledged was lost or doubled, alerts consistent' : 'FAILED')
process.exitCode = ok ? 0 : 1
