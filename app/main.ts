import { describeFailure, runCli } from './cli.js'

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    const { message, code } = describeFailure(error)
    console.error(`siteward: error: ${message.split('\n').join('\n  ')}`)
    process.exitCode = code
    // A failed command has nothing left to do: never linger on a handle it left behind.
    setTimeout(() => process.exit(code), 1_000).unref()
  },
)
