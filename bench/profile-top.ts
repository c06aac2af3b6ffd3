// `node --import tsx bench/profile-top.ts FILE.cpuprofile [N]`: where a V8 CPU profile (from
// BENCH_PROFILE=1, one file per thread) spent its busy time. Prints the N functions with the
// most self time, and the share of each source file, as % of busy time (all samples but idle).
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
  readonly startTime: number
  readonly endTime: number
}

const [file, topArg] = process.argv.slice(2)
if (file === undefined || file === '--help') {
  process.stderr.write('usage: node --import tsx bench/profile-top.ts FILE.cpuprofile [N]\n')
  process.exit(file === '--help' ? 0 : 2)
}
const top = Number(topArg ?? 25)
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
const byId = new Map(profile.nodes.map((node) => [node.id, node]))

const selfMs = new Map<string, number>()
const fileMs = new Map<string, number>()
let busyMs = 0
profile.samples.forEach((id, index) => {
  const frame = byId.get(id)?.callFrame
  const ms = (profile.timeDeltas[index] ?? 0) / 1000
  if (frame === undefined || frame.functionName === '(idle)') return
  busyMs += ms
  const where = frame.url === '' ? '' : `${shortUrl(frame.url)}:${frame.lineNumber + 1}`
  const name = `${frame.functionName || '(anonymous)'} ${where}`.trim()
  selfMs.set(name, (selfMs.get(name) ?? 0) + ms)
  const source = frame.url === '' ? frame.functionName : shortUrl(frame.url)
  fileMs.set(source, (fileMs.get(source) ?? 0) + ms)
})

/** The path from the project or a package down, not the machine's folders. */
function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '')
  const packaged = path.lastIndexOf('node_modules/')
  if (packaged >= 0) return path.slice(packaged + 'node_modules/'.length)
  const built = path.indexOf('/dist/')
  return built >= 0 ? path.slice(built + 1) : basename(path)
}

const table = (title: string, rows: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`)
  for (const [name, ms] of [...rows].sort((a, b) => b[1] - a[1]).slice(0, top))
    process.stdout.write(`${((ms / busyMs) * 100).toFixed(1).padStart(5)} %  ${name}\n`)
}
const wallMs = (profile.endTime - profile.startTime) / 1000
process.stdout.write(
  `${basename(file)}: busy ${(busyMs / 1000).toFixed(1)} s of ${(wallMs / 1000).toFixed(1)} s (${((busyMs / wallMs) * 100).toFixed(0)} %)\n`,
)
table('self time, by function', selfMs)
table('self time, by source file', fileMs)
