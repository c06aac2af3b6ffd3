import { dayOf } from './report.js'

/** One lift as the monitor reported it on the `cycle` channel (CONTRACT §2.1). */
export interface CycleRecord {
  readonly ts: number
  readonly operatorId: string | null
  readonly maxLoadT: number | null
  readonly maxMomentPct: number | null
  readonly violations: readonly string[]
}

export interface OperatorDay {
  readonly operatorId: string
  readonly cycles: number
  readonly overloadCycles: number
}

export interface CraneDay {
  readonly day: string
  readonly cycles: number
  /** Lifts whose moment went past 100 % of the rated moment (GB 5144-2006 §6.2.1: the limiter's job). */
  readonly overloadCycles: number
  /** Lifts the monitor flagged with any violation code. */
  readonly violationCycles: number
  readonly maxLoadT: number | null
  readonly maxMomentPct: number | null
  readonly operators: OperatorDay[]
}

export const overloadMomentPct = 100

/** Work cycles per day (at a fixed UTC offset), with overloads and the operators involved. */
export function craneHistory(cycles: readonly CycleRecord[], utcOffsetMinutes: number): CraneDay[] {
  const days = new Map<string, CycleRecord[]>()
  for (const cycle of cycles) {
    const day = dayOf(cycle.ts, utcOffsetMinutes)
    const list = days.get(day)
    if (list === undefined) days.set(day, [cycle])
    else list.push(cycle)
  }
  const overload = (c: CycleRecord) => c.maxMomentPct !== null && c.maxMomentPct > overloadMomentPct
  const max = (values: (number | null)[]) => {
    const numbers = values.filter((v): v is number => v !== null)
    return numbers.length === 0 ? null : Math.max(...numbers)
  }
  return [...days.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([day, list]) => {
      const operators = new Map<string, { cycles: number; overloadCycles: number }>()
      for (const cycle of list) {
        const id = cycle.operatorId ?? '(unknown)'
        const entry = operators.get(id) ?? { cycles: 0, overloadCycles: 0 }
        entry.cycles += 1
        if (overload(cycle)) entry.overloadCycles += 1
        operators.set(id, entry)
      }
      return {
        day,
        cycles: list.length,
        overloadCycles: list.filter(overload).length,
        violationCycles: list.filter((c) => c.violations.length > 0).length,
        maxLoadT: max(list.map((c) => c.maxLoadT)),
        maxMomentPct: max(list.map((c) => c.maxMomentPct)),
        operators: [...operators.entries()]
          .map(([operatorId, counts]) => ({ operatorId, ...counts }))
          .sort((a, b) => b.cycles - a.cycles || (a.operatorId < b.operatorId ? -1 : 1)),
      }
    })
}
