import { afterEach, describe, expect, it, vi } from 'vitest'
import { ProjectionRepository } from '../../storage/sqlite/projection-repository.js'
import { startTestEngine } from '../helpers/engine.js'

/**
 * A role that can no longer do its work stops the engine (issue 14): an engine that acknowledges
 * readings its rules never evaluate would be the worst kind of silent failure.
 */
describe('a role that fails stops the engine (issue 14)', () => {
  afterEach(() => vi.restoreAllMocks())

  it('does not start when the rule pipeline cannot: its error, not a half-alive engine', async () => {
    // The rules read each device's newest reading time as their pipeline starts (only they do);
    // a store that fails there ends the pipeline with an error.
    vi.spyOn(ProjectionRepository.prototype, 'latestTimestamps').mockImplementation(() => {
      throw new Error('disk I/O error (simulated)')
    })
    await expect(startTestEngine()).rejects.toThrow('disk I/O error (simulated)')
  })
})
