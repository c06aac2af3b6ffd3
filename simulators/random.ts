/** A seeded generator (mulberry32): the same seed gives the same run, for demos and tests. */
export type Random = () => number

export function seededRandom(seed: number): Random {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Roughly normal noise (sum of uniforms), mean 0, standard deviation `sd`. */
export const noise = (random: Random, sd: number) => (random() + random() + random() - 1.5) * 2 * sd
