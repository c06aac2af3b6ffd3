import { existsSync } from 'node:fs'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'

/**
 * The web console (issue 7): the static build in `dir` (`npm run build` writes dist/console) at
 * `/`. Without a build, `/` says how to make one instead of failing silently.
 */
export async function registerConsole(app: FastifyInstance, dir: string): Promise<void> {
  if (!existsSync(dir)) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The web console is not built. Run `npm run build` (npm start does it for you), then reload.'),
    )
    return
  }
  // Hashed asset names change with each build, so files are looked up per request (wildcard);
  // a path that is not a file falls through to the API's JSON 404.
  await app.register(fastifyStatic, { root: dir, prefix: '/', wildcard: true, index: 'index.html' })
}
