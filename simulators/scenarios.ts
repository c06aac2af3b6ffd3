/**
 * Named situations the simulators play (README "Simulators"). Each is a set of knobs on the crane
 * and pit models and on how devices talk; `normal` is the baseline every other one departs from.
 */
export interface Scenario {
  readonly name: string
  readonly description: string
  /** Lifted load as a share of the rated load at the radius (1.0 = at the limit). */
  readonly loadShare: readonly [number, number]
  readonly windMps: number
  readonly gustMps: number
  readonly craneMode: 'work' | 'jacking'
  /** Multiplies the pit points' creep per day, and makes it accelerate. */
  readonly pitCreep: number
  readonly pitAccelerates: boolean
  /** The first device falls silent (stays connected, sends nothing). */
  readonly silence: boolean
  /** Devices buffer this many seconds offline, then upload the buffer as one array. */
  readonly outageSeconds: number
  /** Share of messages sent malformed (each a different kind of mistake). */
  readonly badShare: number
  /** All devices drop their connection and reconnect at once, every this many seconds (0 = never). */
  readonly reconnectEverySeconds: number
}

const normal: Scenario = {
  name: 'normal',
  description: 'cranes lift within their load chart in light wind; pit points creep slowly with noise',
  loadShare: [0.3, 0.8],
  windMps: 4,
  gustMps: 3,
  craneMode: 'work',
  pitCreep: 1,
  pitAccelerates: false,
  silence: false,
  outageSeconds: 0,
  badShare: 0,
  reconnectEverySeconds: 0,
}

export const scenarios: readonly Scenario[] = [
  normal,
  {
    ...normal,
    name: 'overload',
    description: 'lifts of 95–115 % of the rated load: moment warnings, alarms and critical overloads',
    loadShare: [0.95, 1.15],
  },
  {
    ...normal,
    name: 'wind-gust',
    description: 'a steady 9 m/s with gusts to 15 m/s while working: wind warnings and alarms',
    windMps: 9,
    gustMps: 6,
  },
  {
    ...normal,
    name: 'jacking-in-wind',
    description: 'cranes in jacking (climbing) mode in 8–12 m/s wind: over the 9 m/s limit for erection work',
    craneMode: 'jacking',
    windMps: 8,
    gustMps: 4,
  },
  {
    ...normal,
    name: 'pit-acceleration',
    description: 'pit points move ten times faster and accelerating: rate and cumulative alarms',
    pitCreep: 10,
    pitAccelerates: true,
  },
  {
    ...normal,
    name: 'sensor-silence',
    description:
      'the first device stays connected but stops sending: a data-gap alert after 4 missed intervals',
    silence: true,
  },
  {
    ...normal,
    name: 'backfill-after-outage',
    description:
      'devices are offline for 5 minutes (overloads happen meanwhile), then upload their buffer as one array: retrospective alerts',
    loadShare: [0.95, 1.15],
    outageSeconds: 300,
  },
  {
    ...normal,
    name: 'bad-payloads',
    description:
      'a quarter of the messages are malformed (bad JSON, wrong types, missing ts, far-future ts): dead letters with reasons',
    badShare: 0.25,
  },
  {
    ...normal,
    name: 'reconnect-storm',
    description:
      'every device drops and reconnects at once, every 20 s: QoS 1 resends, no loss, no duplicates',
    reconnectEverySeconds: 20,
  },
]

export function scenarioNamed(name: string): Scenario | undefined {
  return scenarios.find((scenario) => scenario.name === name)
}
