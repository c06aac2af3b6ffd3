import { describeFailure, runCli } from './cli.js'

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    const { message, code } = describeFailure(error)
    console.error(`siteward: error: ${message.split('\n').join('\n  ')}`)
    process.exitCode = code
  },
)
