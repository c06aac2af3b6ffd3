import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ZodError } from 'zod'
import { isSitewardError, ListenerError } from '../domain/errors.js'
import { formatIssues } from '../domain/issues.js'
import { openDatabase } from '../storage/sqlite/database.js'
import { parseValues, UsageError } from './cli-args.js'
import { type StoreAction, storeCommands } from './cli-commands.js'
import { help } from './cli-help.js'
import { ConfigError, loadConfig } from './config.js'
import { registryDatabasePath } from './engine.js'
import { projectRoot } from './project-root.js'
import type { RoleName } from './roles/control-plane.js'
import { serve } from './serve.js'
import { runSimulate } from './simulate-command.js'

export { UsageError }

type Out = (line: string) => void

/** Runs one command line; returns the exit code. `serve` resolves only when the engine stops. */
export async function runCli(
  argv: readonly string[],
  out: Out = (line) => process.stdout.write(`${line}\n`),
): Promise<number> {
  const [command, sub, ...rest] = argv
  if (command === undefined) throw new UsageError(`no command given\n${help.main}`)
  if (command === '--help' || command === '-h' || command === 'help') {
    out(help.main)
    return 0
  }
  if (command === '--version') {
    out(version())
    return 0
  }
  switch (command) {
    case 'simulate':
      return runSimulate(argv.slice(1), out)
    case 'serve':
      if (sub === '--help' || sub === '-h') return printed(out, help.serve)
      return serve(loadConfig(), { ...serveRole(sub, rest) })
    default: {
      const commands = storeCommands[command]
      const usage = help[command as keyof typeof help]
      if (commands === undefined || usage === undefined)
        throw new UsageError(`unknown command "${command}" (try: siteward --help)`)
      return storeCommand(commands, command, sub, rest, usage, out)
    }
  }
}

/** `serve [--role edge|worker|api]`. */
function serveRole(flag: string | undefined, rest: readonly string[]): { role?: RoleName } {
  if (flag === undefined) return {}
  const [role, ...extra] = rest
  if (flag !== '--role' || extra.length > 0)
    throw new UsageError(`serve takes only --role edge|worker|api (got "${[flag, ...rest].join(' ')}")`)
  if (role !== 'edge' && role !== 'worker' && role !== 'api')
    throw new UsageError(`serve --role: expected edge, worker or api (got "${role ?? ''}")`)
  return { role }
}

/** A command that works on the data directory's store: parse, open, act, print, close. */
async function storeCommand(
  commands: Readonly<Record<string, StoreAction>>,
  command: string,
  sub: string | undefined,
  args: readonly string[],
  usage: string,
  out: Out,
): Promise<number> {
  if (sub === '--help' || sub === '-h') return printed(out, usage)
  const action = sub === undefined ? undefined : commands[sub]
  if (action === undefined) {
    const expected = Object.keys(commands)
      .map((name) => `"${command} ${name}"`)
      .join(' or ')
    throw new UsageError(
      `expected ${expected}${sub === undefined ? '' : `, got "${command} ${sub}"`}\n${usage}`,
    )
  }
  const values = parseValues(args)
  if (values.help === true) return printed(out, usage)
  const config = loadConfig()
  const db = openDatabase(registryDatabasePath(config.dataDir))
  try {
    const result = await action({ db, config }, values)
    out('json' in result ? JSON.stringify(result.json) : result.text)
    return 0
  } finally {
    db.close()
  }
}

function printed(out: Out, text: string): number {
  out(text)
  return 0
}

function version(): string {
  const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as {
    version: string
  }
  return pkg.version
}

const flagOfField: Record<string, string> = {
  siteId: '--site',
  sites: '--site',
  deviceId: '--device',
  pairPointCode: '--pair',
  expectedIntervalMs: '--expected-interval',
  forbiddenSlewSectors: '--forbidden-slew',
}

/** "pitGrade: …" reads "--pit-grade: …" on the command line (camelCase → kebab-case). */
function asFlag(problem: string): string {
  const [field = '', ...rest] = problem.split(':')
  const name = field.replace(/(\[\d+\]|\.\w+)*$/, '').replace(/\[\d+\]$/, '')
  const flag = flagOfField[name] ?? `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
  return `${flag}:${rest.join(':')}`
}

/** One line on stderr for every failure a user can cause (CONTRACT §1). */
export function describeFailure(error: unknown): { message: string; code: number } {
  if (error instanceof UsageError) return { message: error.message, code: 2 }
  if (error instanceof ConfigError) return { message: error.message, code: 2 }
  if (error instanceof ZodError) return { message: formatIssues(error).map(asFlag).join('; '), code: 2 }
  if (isSitewardError(error) || error instanceof ListenerError) return { message: error.message, code: 1 }
  return { message: error instanceof Error ? error.message : String(error), code: 1 }
}
