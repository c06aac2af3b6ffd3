import { runDemo } from './demo.js'

// `npm run demo`: ports from SITEWARD_MQTT_PORT / SITEWARD_HTTP_PORT (1883 / 8080 by default).
const stop = new AbortController()
process.once('SIGINT', () => stop.abort())
process.once('SIGTERM', () => stop.abort())
await runDemo({
  mqttPort: Number(process.env.SITEWARD_MQTT_PORT ?? 1883),
  httpPort: Number(process.env.SITEWARD_HTTP_PORT ?? 8080),
  // Compressed so that within a minute an overload is raised, escalates unacknowledged, and is
  // then acknowledged by the responder.
  ackDeadlines: 'critical=15s,alarm=20s,warning=30s',
  ackAfterMs: 25_000,
  craneIntervalMs: 500,
  say: (line) => process.stdout.write(`${line}\n`),
  signal: stop.signal,
})
