import { z } from 'zod'

/**
 * A tower crane's load chart: rated load (t) by working radius (m), for the reeving in use. With
 * it the engine computes moment % when a monitor sends only load and radius (DOMAIN.md §1).
 */
export const loadChartSchema = z
  .array(
    z.strictObject({ radiusM: z.number().positive().max(120), ratedLoadT: z.number().positive().max(200) }),
  )
  .min(1)
  .max(200)
  .superRefine((points, ctx) => {
    const sorted = [...points].sort((a, b) => a.radiusM - b.radiusM)
    sorted.forEach((point, i) => {
      const previous = sorted[i - 1]
      if (previous !== undefined && point.ratedLoadT > previous.ratedLoadT) {
        ctx.addIssue({
          code: 'custom',
          message: `rated load must not rise with radius (${previous.radiusM} m: ${previous.ratedLoadT} t, ${point.radiusM} m: ${point.ratedLoadT} t)`,
        })
      }
    })
  })
export type LoadChart = z.infer<typeof loadChartSchema>

/**
 * Rated load at a radius: between two chart points the larger radius's (lower) rating applies, as
 * crane practice reads a chart conservatively; beyond the chart there is no rating (null).
 */
export function ratedLoadAt(chart: LoadChart, radiusM: number): number | null {
  const sorted = [...chart].sort((a, b) => a.radiusM - b.radiusM)
  return sorted.find((point) => point.radiusM >= radiusM)?.ratedLoadT ?? null
}

/** Moment % of rated (GB 5144-2006 §6.2.1) = load / rated load at the radius × 100. */
export function momentPctFromChart(chart: LoadChart, loadT: number, radiusM: number): number | null {
  const rated = ratedLoadAt(chart, radiusM)
  return rated === null ? null : (loadT / rated) * 100
}
