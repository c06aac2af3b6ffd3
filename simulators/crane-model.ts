import type { CraneCycle, CraneTelemetry } from '../domain/payloads.js'
import { noise, type Random } from './random.js'
import type { Scenario } from './scenarios.js'

/** A simple load chart: the rated load falls with radius (capacity moment ÷ radius, capped). */
const maxLoadT = 6
const capacityTm = 120
export const ratedLoadAt = (radiusM: number) => Math.min(maxLoadT, capacityTm / Math.max(radiusM, 1))

const round = (value: number, places = 2) => Math.round(value * 10 ** places) / 10 ** places

type Telemetry = Omit<CraneTelemetry, 'ts'> & { ts: number }
type Cycle = Omit<CraneCycle, 'ts' | 'startTs'> & { ts: number; startTs: number }

/**
 * One tower crane, one reading per tick: a lift hooks up at a short radius, slews and trolleys out
 * to the drop radius, lowers and returns empty (GB/T 5031 duty cycle, simplified). Load and moment
 * follow the load chart; wind blows with gusts; every finished lift yields a work-cycle record.
 */
export class CraneModel {
  private readonly random: Random
  private readonly scenario: Scenario
  private readonly operators: readonly string[]
  /** One counter for every object the crane sends (telemetry and cycles): a seq names one object. */
  private seq = 0
  private liftTick = 0
  private liftTicks = 0
  private cycleNo = 0
  private lift = { startTs: 0, loadT: 0, pickM: 10, dropM: 30, maxLoadT: 0, maxMomentPct: 0, maxWindMps: 0 }
  private gustTicks = 0
  private operatorId: string

  constructor(deviceId: string, scenario: Scenario, random: Random) {
    this.random = random
    this.scenario = scenario
    this.operators = [`${deviceId}-OP1`, `${deviceId}-OP2`]
    this.operatorId = this.operators[0] as string
  }

  /** The next reading, and the cycle record when a lift ended with it. */
  next(ts: number): { telemetry: Telemetry; cycle?: Cycle } {
    if (this.liftTick >= this.liftTicks) this.startLift(ts)
    const phase = this.liftTick / this.liftTicks
    this.liftTick += 1
    const { pickM, dropM } = this.lift
    // Hook up (0–20 %), slew and trolley out (20–80 %), lower and return empty (80–100 %).
    const radiusM =
      phase < 0.2 ? pickM : phase < 0.8 ? pickM + ((phase - 0.2) / 0.6) * (dropM - pickM) : dropM
    const loadT = phase < 0.05 ? this.lift.loadT * (phase / 0.05) : phase < 0.8 ? this.lift.loadT : 0
    const ratedLoadT = ratedLoadAt(radiusM)
    const momentPct = (loadT / ratedLoadT) * 100
    if (this.gustTicks === 0 && this.random() < 0.03) this.gustTicks = 3 + Math.floor(this.random() * 5)
    const gust = this.gustTicks > 0 ? this.scenario.gustMps * (0.6 + 0.4 * this.random()) : 0
    if (this.gustTicks > 0) this.gustTicks -= 1
    const windMps = Math.max(0, this.scenario.windMps + noise(this.random, 0.8) + gust)
    this.lift.maxLoadT = Math.max(this.lift.maxLoadT, loadT)
    this.lift.maxMomentPct = Math.max(this.lift.maxMomentPct, momentPct)
    this.lift.maxWindMps = Math.max(this.lift.maxWindMps, windMps)
    const telemetry: Telemetry = {
      ts,
      seq: ++this.seq,
      loadT: round(loadT),
      ratedLoadT: round(ratedLoadT),
      loadPct: round((loadT / ratedLoadT) * 100, 1),
      momentPct: round(momentPct, 1),
      radiusM: round(radiusM, 1),
      hookHeightM: round(phase < 0.8 ? 20 + 25 * Math.sin(Math.PI * phase) : 40, 1),
      slewDeg: round((phase * 180) % 360, 1),
      windMps: round(windMps, 1),
      powerV: round(380 + noise(this.random, 3), 1),
      mode: this.scenario.craneMode,
      operatorId: this.operatorId,
    }
    if (this.liftTick < this.liftTicks) return { telemetry }
    const cycle: Cycle = {
      ts,
      // A resent lift record (a PUBACK lost with a dropped connection) is then a duplicate.
      seq: ++this.seq,
      startTs: this.lift.startTs,
      cycleNo: this.cycleNo,
      operatorId: this.operatorId,
      maxLoadT: round(this.lift.maxLoadT),
      maxMomentPct: round(this.lift.maxMomentPct, 1),
      maxWindMps: round(this.lift.maxWindMps, 1),
      ...(this.lift.maxMomentPct > 100 ? { violations: ['OVERLOAD'] } : {}),
    }
    return { telemetry, cycle }
  }

  private startLift(ts: number): void {
    this.cycleNo += 1
    if (this.cycleNo % 10 === 0) this.operatorId = this.operators[(this.cycleNo / 10) % 2] as string
    this.liftTick = 0
    this.liftTicks = 20 + Math.floor(this.random() * 20)
    const pickM = 8 + this.random() * 6
    const dropM = 20 + this.random() * 30
    const [low, high] = this.scenario.loadShare
    const share = low + this.random() * (high - low)
    // The share is of the rated load at the farthest radius of the lift, where the moment peaks.
    const loadT = share * ratedLoadAt(dropM)
    this.lift = { startTs: ts, loadT, pickM, dropM, maxLoadT: 0, maxMomentPct: 0, maxWindMps: 0 }
  }
}
