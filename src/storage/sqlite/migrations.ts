/**
 * Versioned schema migrations, applied in order inside one transaction each; the version lives
 * in SQLite's `user_version`. Append new migrations; never edit a released one.
 */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
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
]
