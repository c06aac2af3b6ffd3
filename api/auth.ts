import type { FastifyInstance, FastifyRequest } from 'fastify'
import { SitewardError } from '../domain/errors.js'
import type { TokenRepository } from '../domain/ports.js'
import type { Principal } from '../domain/registry.js'
import { tokenGuessThrottle } from './guards.js'

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
  }
}

/**
 * Bearer tokens on every /api/ route (CONTRACT §5). The token is looked up on each request, so
 * tokens created by the CLI while the engine runs work at once.
 */
export function registerAuth(app: FastifyInstance, tokens: TokenRepository): void {
  app.decorateRequest('principal', null)
  const guesses = tokenGuessThrottle()
  const find = async (request: FastifyRequest, token: string): Promise<Principal> => {
    const principal = await tokens.findPrincipal(token)
    if (principal === undefined) {
      await guesses.failed(request)
      throw new SitewardError('UNAUTHORIZED', 'the token is unknown or revoked')
    }
    return principal
  }
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/api/')) return
    const header = request.headers.authorization
    const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header)
    // EventSource cannot send headers: the alert stream also takes ?access_token=.
    const queryToken = request.url.startsWith('/api/alerts/stream')
      ? (request.query as { access_token?: string }).access_token
      : undefined
    if ((match === null || match[1] === undefined) && queryToken !== undefined) {
      request.principal = await find(request, queryToken)
      return
    }
    if (match === null || match[1] === undefined) {
      throw new SitewardError('UNAUTHORIZED', 'send Authorization: Bearer <token>')
    }
    request.principal = await find(request, match[1])
  })
}

export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new SitewardError('UNAUTHORIZED')
  return request.principal
}
