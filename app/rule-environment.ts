import type { Logger } from 'pino'
import type {
  ActiveBreach,
  AlertStore,
  DeviceRepository,
  HeardDevice,
  PitPointState,
  WriteAheadLog,
} from '../domain/ports.js'
import type { Rule } from '../domain/rules.js'
import type { IngestState } from '../ingest/ingest-state.js'
import type { RuleEnvironment } from '../rules/pipeline.js'
import type { RuleStates } from '../rules/rule-states.js'
import type { ProjectionRepository } from '../storage/sqlite/projection-repository.js'
import type { RegistryRepository } from '../storage/sqlite/registry-repository.js'
import { pointWatches, restartSeeds } from './rule-seeds.js'
import type { SettingsService } from './settings-service.js'

/** A reading this late is backfill: what it breaches is raised as retrospective (DOMAIN.md §3). */
export const lateAfterMs = 5 * 60_000

/** What the rules start from after a restart, read from the store before their pipeline starts. */
export interface RuleStartup {
  readonly activeBreaches: readonly ActiveBreach[]
  /** Every device heard from, with its presence. */
  readonly heardDevices: readonly HeardDevice[]
  readonly modes: ReadonlyMap<string, string>
  readonly latestTimestamps: ReadonlyMap<string, number>
  readonly pitSeries: readonly PitPointState[]
}

export async function loadRuleStartup(stores: {
  readonly alerts: Pick<AlertStore, 'activeBreaches'>
  readonly registry: Pick<DeviceRepository, 'heardDevices'>
  readonly projection: Pick<ProjectionRepository, 'modes' | 'latestTimestamps' | 'loadPitPoints'>
}): Promise<RuleStartup> {
  return {
    activeBreaches: await stores.alerts.activeBreaches(),
    heardDevices: await stores.registry.heardDevices(),
    modes: await stores.projection.modes(),
    latestTimestamps: await stores.projection.latestTimestamps(),
    pitSeries: await stores.projection.loadPitPoints(),
  }
}

/**
 * What the rule pipeline knows of the world, from the engine's parts: settings, ingest state (pit
 * series), the projection (modes, newest timestamps), and where each key resumes after a restart.
 */
export function ruleEnvironment(parts: {
  readonly rules: readonly Rule[]
  readonly settings: SettingsService
  readonly state: () => IngestState | null
  readonly startup: RuleStartup
  readonly states: RuleStates
  readonly logger: Logger
}): RuleEnvironment {
  const { settings, startup } = parts
  const { seeds, openGapDevices } = restartSeeds(parts.rules, startup.activeBreaches)
  return {
    pitContext: (siteId, pointCode) => settings.pitContext(siteId, pointCode),
    ruleOverride: (siteId, deviceId, ruleId) => settings.ruleOverride(siteId, deviceId, ruleId),
    loadChart: (deviceId) => settings.loadChart(deviceId),
    deviceSettings: (deviceId) => settings.deviceSettings(deviceId),
    pointInterval: (siteId, pointCode) => settings.pointInterval(siteId, pointCode),
    pairCumulative: (siteId, pointCode) => parts.state()?.pitPoints.cumulativeOf(siteId, pointCode) ?? null,
    initialModes: () => startup.modes,
    onKeyError: (key, error) =>
      parts.logger.error({ err: error, key }, 'rule evaluation failed for this key; other keys go on'),
    lateAfterMs,
    states: parts.states,
    // A seed is where a key starts once, at its first reading after the restart; after that the
    // key's own (saved) state rules, including "back to normal".
    initialState: (key) => {
      const seed = seeds.get(key)
      seeds.delete(key)
      return seed
    },
    latestTimestamps: () => startup.latestTimestamps,
    // Devices online when the engine stopped, those whose silence was already raised, and pit
    // points with an interval of their own.
    watchFromStart: () => [
      ...startup.heardDevices.filter((device) => device.online || openGapDevices.has(device.deviceId)),
      ...pointWatches(settings, startup.pitSeries),
    ],
  }
}

/**
 * Devices online when the engine stopped are watched for silence from their last reading
 * (`watchFromStart`); until they reconnect they are not online, and the registry says so.
 */
export async function markNotYetReconnected(
  registry: Pick<RegistryRepository, 'heardDevices'>,
  log: Pick<WriteAheadLog, 'append'>,
  now: number,
): Promise<void> {
  const online = (await registry.heardDevices()).filter((device) => device.online)
  await Promise.all(
    online.map((device) =>
      log.append({
        type: 'presence',
        receivedAt: now,
        siteId: device.siteId,
        deviceId: device.deviceId,
        online: false,
        cause: 'engine_restart',
      }),
    ),
  )
}
