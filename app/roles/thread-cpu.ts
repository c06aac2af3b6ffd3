import { readFileSync, readlinkSync } from 'node:fs'

/** Linux's clock ticks per second for /proc times (`getconf CLK_TCK`: 100 on every Linux port Node runs on). */
const ticksPerSecond = 100

/**
 * CPU seconds (user + system) the calling thread has used, from /proc/thread-self/stat; null
 * where there is no such file (not Linux). Each role's thread reports its own, so /metrics can
 * say which role a reading's CPU goes to (issue 14: "CPU per reading per role").
 */
export function threadCpuSeconds(): number | null {
  return cpuSecondsOf('/proc/thread-self')
}

/**
 * Where the calling thread's /proc entry lives for any other thread of the process
 * (`/proc/PID/task/TID`), or null (not Linux). The API reads a role's CPU there itself when the
 * role is too busy to answer: a saturated edge is when its CPU matters most.
 */
export function threadProcPath(): string | null {
  try {
    return `/proc/${readlinkSync('/proc/thread-self')}`
  } catch {
    return null
  }
}

/** CPU seconds of the thread whose /proc entry is `path`; null when it cannot be read. */
export function cpuSecondsOf(path: string): number | null {
  let stat: string
  try {
    stat = readFileSync(`${path}/stat`, 'latin1')
  } catch {
    return null
  }
  // The command name, field 2, is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const user = Number(fields[11]) // field 14, utime
  const system = Number(fields[12]) // field 15, stime
  return Number.isFinite(user) && Number.isFinite(system) ? (user + system) / ticksPerSecond : null
}
