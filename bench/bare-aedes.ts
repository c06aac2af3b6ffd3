// Bare Aedes as the benchmark's baseline: default options, no auth, no log, plain TCP.
import { createServer } from 'node:net'
import { Aedes } from 'aedes'

const aedes = await Aedes.createBroker()
const server = createServer((socket) => aedes.handle(socket))
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`,
  )
})
process.on('SIGTERM', () => {
  server.close()
  aedes.close(() => process.exit(0))
})
