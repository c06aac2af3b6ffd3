/**
 * Versioned schema migrations, applied in order inside one transaction each; the version lives
 * in SQLite's `user_version`. Append new migrations; never edit a released one.
 */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

/** The tables a threshold lives in (as of migration 9): any row changed there moves the settings
 * counter. A table added later gets its triggers in a migration of its own. */
const settingsTables = ['rule_overrides', 'point_settings', 'crane_load_charts', 'device_settings']

function countChanges(counter: string) {
  return (table: string) =>
    ['INSERT', 'UPDATE', 'DELETE']
      .map(
        (event) =>
          `CREATE TRIGGER ${table}_${event.toLowerCase()}_counted AFTER ${event} ON ${table}
        BEGIN UPDATE change_counters SET value = value + 1 WHERE name = '${counter}'; END;`,
      )
      .join('\n')
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'registry, device counters, dead letters, log cursors, pit points',
    sql: `
      CREATE TABLE sites (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        region TEXT NOT NULL,
        pit_grade INTEGER,
        pit_depth_m REAL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX sites_region ON sites(region);

      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        site_id TEXT NOT NULL REFERENCES sites(id),
        kind TEXT NOT NULL CHECK (kind IN ('crane', 'pit')),
        name TEXT,
        secret_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX devices_site ON devices(site_id);

      -- Written only by the log projector, in the same transaction as its log cursor.
      CREATE TABLE device_state (
        device_id TEXT PRIMARY KEY REFERENCES devices(id),
        online INTEGER NOT NULL DEFAULT 0,
        last_seen_at INTEGER,
        accepted_count INTEGER NOT NULL DEFAULT 0,
        rejected_count INTEGER NOT NULL DEFAULT 0,
        duplicate_count INTEGER NOT NULL DEFAULT 0,
        last_reject_reason TEXT,
        last_reject_at INTEGER,
        seq_ranges TEXT
      ) STRICT;

      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('officer', 'supervisor', 'regulator', 'admin')),
        name TEXT NOT NULL,
        sites TEXT NOT NULL DEFAULT '[]',
        region TEXT,
        created_at TEXT NOT NULL,
        revoked_at TEXT
      ) STRICT;

      CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        received_at INTEGER NOT NULL,
        site_id TEXT,
        device_id TEXT,
        topic TEXT NOT NULL,
        stage TEXT NOT NULL,
        reason TEXT NOT NULL,
        payload TEXT NOT NULL
      ) STRICT;
      CREATE INDEX dead_letters_device ON dead_letters(device_id, received_at);

      CREATE TABLE log_cursors (
        consumer TEXT PRIMARY KEY,
        position INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE pit_points (
        site_id TEXT NOT NULL,
        point_code TEXT NOT NULL,
        item TEXT NOT NULL,
        baseline REAL NOT NULL,
        baseline_ts INTEGER NOT NULL,
        baseline_configured INTEGER NOT NULL DEFAULT 0,
        last_value REAL,
        last_ts INTEGER,
        PRIMARY KEY (site_id, point_code)
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'alerts and their tamper-evident timelines',
    sql: `
      CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        site_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        rule_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('warning', 'alarm', 'critical')),
        state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved', 'closed')),
        condition TEXT NOT NULL CHECK (condition IN ('active', 'cleared')),
        value REAL,
        peak_value REAL,
        threshold REAL,
        threshold_origin TEXT NOT NULL,
        count INTEGER NOT NULL,
        first_at INTEGER NOT NULL,
        last_at INTEGER NOT NULL,
        cleared_at INTEGER,
        escalation_level INTEGER NOT NULL DEFAULT 0,
        retrospective INTEGER NOT NULL,
        version INTEGER NOT NULL,
        raised_at INTEGER NOT NULL,
        acknowledged_by TEXT, acknowledged_at INTEGER, acknowledged_note TEXT,
        resolved_by TEXT, resolved_at INTEGER, resolved_note TEXT, resolved_action TEXT,
        closed_by TEXT, closed_at INTEGER, closed_note TEXT
      ) STRICT;
      -- CONTRACT §5.2: at most one alert that is not closed per (site, device, rule, subject),
      -- enforced here rather than by the code that writes.
      CREATE UNIQUE INDEX alerts_one_not_closed ON alerts(site_id, device_id, rule_id, subject) WHERE state <> 'closed';
      CREATE INDEX alerts_site ON alerts(site_id, id);

      -- Append-only: each event carries the hash of the one before it.
      CREATE TABLE alert_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        alert_id TEXT NOT NULL REFERENCES alerts(id),
        type TEXT NOT NULL,
        actor TEXT NOT NULL,
        at INTEGER NOT NULL,
        data TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      ) STRICT;
      CREATE INDEX alert_events_alert ON alert_events(alert_id, seq);
      CREATE TRIGGER alert_events_append_only_update BEFORE UPDATE ON alert_events
        BEGIN SELECT RAISE(ABORT, 'alert events are append-only'); END;
      CREATE TRIGGER alert_events_append_only_delete BEFORE DELETE ON alert_events
        BEGIN SELECT RAISE(ABORT, 'alert events are append-only'); END;
    `,
  },
  {
    version: 3,
    name: 'threshold overrides per site and device, pit point settings, base slab',
    sql: `
      CREATE TABLE rule_overrides (
        site_id TEXT NOT NULL REFERENCES sites(id),
        rule_id TEXT NOT NULL,
        device_id TEXT NOT NULL DEFAULT '', -- '' = the whole site
        settings TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        PRIMARY KEY (site_id, rule_id, device_id)
      ) STRICT;
      CREATE TABLE point_settings (
        site_id TEXT NOT NULL REFERENCES sites(id),
        point_code TEXT NOT NULL,
        item TEXT NOT NULL,
        baseline REAL,
        design_value REAL,
        cumulative_alarm REAL,
        rate_alarm REAL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        PRIMARY KEY (site_id, point_code)
      ) STRICT;
      ALTER TABLE sites ADD COLUMN base_slab_cast INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 4,
    name: 'crane load charts',
    sql: `
      CREATE TABLE crane_load_charts (
        device_id TEXT PRIMARY KEY REFERENCES devices(id),
        chart TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 5,
    name: 'rule state that survives restarts, the newest event time per device',
    sql: `
      -- Threshold state per alert key (runs, clear runs, the breach in progress), committed with
      -- the projector's cursor so that a restart between two readings of a run loses nothing.
      CREATE TABLE rule_states (
        key TEXT PRIMARY KEY,
        state TEXT NOT NULL
      ) STRICT;
      -- The newest telemetry ts per device: older readings are late and evaluated apart.
      ALTER TABLE device_state ADD COLUMN latest_ts INTEGER;
    `,
  },
  {
    version: 6,
    name: 'telemetry readings per device and hour, for data completeness',
    sql: `
      -- Counted by the projector in the transaction that moves its cursor: exactly once.
      CREATE TABLE device_hours (
        device_id TEXT NOT NULL,
        hour INTEGER NOT NULL, -- event time ÷ 3,600,000
        readings INTEGER NOT NULL,
        PRIMARY KEY (device_id, hour)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    name: 'pit series per device and depth with their history, site support type, crane and device settings',
    sql: `
      -- A series is a device's point at one depth (inclinometers measure one point at many);
      -- its history of readings gives rates over a window of event time (GB 50497-2019 §8.0.3).
      CREATE TABLE pit_series (
        site_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        point_code TEXT NOT NULL,
        depth_key TEXT NOT NULL DEFAULT '', -- '' = no depth
        item TEXT NOT NULL,
        baseline REAL NOT NULL,
        baseline_ts INTEGER NOT NULL,
        baseline_configured INTEGER NOT NULL DEFAULT 0,
        last_value REAL,
        last_ts INTEGER,
        history TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (site_id, device_id, point_code, depth_key)
      ) STRICT;
      -- Points were per site before: each goes to the device that reported it last.
      INSERT INTO pit_series (site_id, device_id, point_code, item, baseline, baseline_ts, baseline_configured,
                              last_value, last_ts, history)
        SELECT p.site_id, d.id, p.point_code, p.item, p.baseline, p.baseline_ts, p.baseline_configured,
               p.last_value, p.last_ts,
               CASE WHEN p.last_ts IS NULL THEN '[]' ELSE json_array(json_array(p.last_ts, p.last_value)) END
        FROM pit_points p
        JOIN devices d ON d.id = (SELECT id FROM devices WHERE site_id = p.site_id AND kind = 'pit' ORDER BY id LIMIT 1);
      DROP TABLE pit_points;

      ALTER TABLE sites ADD COLUMN support_type TEXT;
      ALTER TABLE sites ADD COLUMN rock_socketed INTEGER NOT NULL DEFAULT 0;

      ALTER TABLE point_settings ADD COLUMN capacity REAL;
      ALTER TABLE point_settings ADD COLUMN prestress REAL;
      ALTER TABLE point_settings ADD COLUMN design_load REAL;
      ALTER TABLE point_settings ADD COLUMN differential_alarm REAL;
      ALTER TABLE point_settings ADD COLUMN pair_point_code TEXT;
      ALTER TABLE point_settings ADD COLUMN expected_interval_ms INTEGER;
      ALTER TABLE point_settings ADD COLUMN resolution REAL;

      -- Per device: the expected reporting interval (manual surveys read once a day) and, for a
      -- crane, its limits (rated capacity, hook height, radius, forbidden slew sectors).
      CREATE TABLE device_settings (
        device_id TEXT PRIMARY KEY REFERENCES devices(id),
        settings TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
      ) STRICT;

      -- The crane's mode as last reported in event order: wind limits depend on it after a restart too.
      ALTER TABLE device_state ADD COLUMN mode TEXT;
    `,
  },
  {
    version: 8,
    name: 'every settings change with who made it and how it loosens a rule; devices can be disabled',
    sql: `
      -- Regulators read this (GET /api/overrides): an override that loosens a statutory limit
      -- can be undone, never hidden.
      CREATE TABLE settings_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        by TEXT NOT NULL,
        site_id TEXT NOT NULL,
        device_id TEXT, -- NULL: the whole site
        subject TEXT NOT NULL, -- 'rule:<ruleId>', 'point:<code>', 'device-settings', 'load-chart'
        change TEXT NOT NULL, -- JSON: the settings as set
        laxer TEXT NOT NULL DEFAULT '[]' -- JSON: each way it loosens the rule, in words
      ) STRICT;
      CREATE INDEX settings_changes_site ON settings_changes(site_id, id);

      ALTER TABLE devices ADD COLUMN disabled_at TEXT;
    `,
  },
  {
    version: 9,
    name: 'change counters the roles poll; the manual-readings inbox between the API and the edge',
    sql: `
      -- Roles on connections of their own (issue 14) learn of a change by polling a counter, not
      -- SQLite's data_version, which moves on every commit of the worker's batches.
      CREATE TABLE change_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
      INSERT INTO change_counters (name, value) VALUES ('settings', 0), ('credentials', 0);
      ${settingsTables.map(countChanges('settings')).join('\n')}
      CREATE TRIGGER devices_credentials_changed AFTER UPDATE OF secret_hash, disabled_at ON devices
        BEGIN UPDATE change_counters SET value = value + 1 WHERE name = 'credentials'; END;
      CREATE TRIGGER devices_removed AFTER DELETE ON devices
        BEGIN UPDATE change_counters SET value = value + 1 WHERE name = 'credentials'; END;

      -- Readings typed by people: the API files them, the edge (the log's only writer) admits and
      -- appends them and writes the answer back. claimed_at: the log's end when the edge took
      -- the submission, so a restart finds what of it is already in the log.
      CREATE TABLE manual_inbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        site_id TEXT NOT NULL,
        entered_by TEXT NOT NULL,
        body TEXT NOT NULL,
        filed_at INTEGER NOT NULL,
        claimed_at INTEGER,
        result TEXT,
        done_at INTEGER
      ) STRICT;
      CREATE INDEX manual_inbox_pending ON manual_inbox(id) WHERE done_at IS NULL;
    `,
  },
  {
    version: 10,
    name: "a site's changes move the settings counter: its pit grade, depth and support are threshold inputs",
    sql: countChanges('settings')('sites'),
  },
]
