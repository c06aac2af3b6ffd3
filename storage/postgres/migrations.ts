import type { Migration } from '../sqlite/migrations.js'

/**
 * PostgreSQL's schema (issue 15), versioned like SQLite's and applied by `migratePostgres`. The
 * store's invariants live in the database here too, not in the code that writes: one alert not
 * closed per key, and timelines that can only grow. Append new migrations; never edit one that
 * has been released.
 *
 * So far the alert store's tables and the registry's (alerts are filtered by a site's region);
 * the projection, rule state and settings follow as their repositories move behind
 * asynchronous ports (issue 15, next steps).
 */
export const postgresMigrations: readonly Migration[] = [
  {
    version: 1,
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
        value DOUBLE PRECISION,
        peak_value DOUBLE PRECISION,
        threshold DOUBLE PRECISION,
        threshold_origin TEXT NOT NULL,
        count INTEGER NOT NULL,
        first_at BIGINT NOT NULL,
        last_at BIGINT NOT NULL,
        cleared_at BIGINT,
        escalation_level INTEGER NOT NULL DEFAULT 0,
        retrospective BOOLEAN NOT NULL,
        version INTEGER NOT NULL,
        raised_at BIGINT NOT NULL,
        acknowledged_by TEXT, acknowledged_at BIGINT, acknowledged_note TEXT,
        resolved_by TEXT, resolved_at BIGINT, resolved_note TEXT, resolved_action TEXT,
        closed_by TEXT, closed_at BIGINT, closed_note TEXT
      );
      -- CONTRACT §5.2: at most one alert that is not closed per (site, device, rule, subject).
      CREATE UNIQUE INDEX alerts_one_not_closed ON alerts (site_id, device_id, rule_id, subject)
        WHERE state <> 'closed';
      CREATE INDEX alerts_site ON alerts (site_id, id);

      -- Append-only: each event carries the hash of the one before it.
      CREATE TABLE alert_events (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        alert_id TEXT NOT NULL REFERENCES alerts (id),
        type TEXT NOT NULL,
        actor TEXT NOT NULL,
        at BIGINT NOT NULL,
        data TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE INDEX alert_events_alert ON alert_events (alert_id, seq);
      CREATE FUNCTION alert_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'alert events are append-only' USING ERRCODE = 'restrict_violation'; END
      $$;
      CREATE TRIGGER alert_events_append_only BEFORE UPDATE OR DELETE ON alert_events
        FOR EACH ROW EXECUTE FUNCTION alert_events_append_only();
      -- TRUNCATE fires no row trigger: refused by a statement trigger of its own.
      CREATE TRIGGER alert_events_no_truncate BEFORE TRUNCATE ON alert_events
        FOR EACH STATEMENT EXECUTE FUNCTION alert_events_append_only();
    `,
  },
  {
    version: 2,
    name: 'registry: sites, devices and their state, API tokens',
    sql: `
      CREATE TABLE sites (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        region TEXT NOT NULL,
        pit_grade INTEGER,
        pit_depth_m DOUBLE PRECISION,
        base_slab_cast BOOLEAN NOT NULL DEFAULT false,
        support_type TEXT,
        rock_socketed BOOLEAN NOT NULL DEFAULT false,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX sites_region ON sites (region);

      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        site_id TEXT NOT NULL REFERENCES sites (id),
        kind TEXT NOT NULL CHECK (kind IN ('crane', 'pit')),
        name TEXT,
        secret_hash TEXT NOT NULL,
        disabled_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX devices_site ON devices (site_id);

      -- Written only by the log projector, in the same transaction as its log cursor.
      CREATE TABLE device_state (
        device_id TEXT PRIMARY KEY REFERENCES devices (id),
        online BOOLEAN NOT NULL DEFAULT false,
        last_seen_at BIGINT,
        accepted_count BIGINT NOT NULL DEFAULT 0,
        rejected_count BIGINT NOT NULL DEFAULT 0,
        duplicate_count BIGINT NOT NULL DEFAULT 0,
        last_reject_reason TEXT,
        last_reject_at BIGINT,
        seq_ranges TEXT,
        latest_ts BIGINT,
        mode TEXT
      );

      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('officer', 'supervisor', 'regulator', 'admin')),
        name TEXT NOT NULL,
        sites TEXT NOT NULL DEFAULT '[]',
        region TEXT,
        created_at TEXT NOT NULL,
        revoked_at TEXT
      );
    `,
  },
  {
    version: 3,
    name: 'projection and rule state: log cursors, dead letters, readings per hour, pit series',
    sql: `
      -- Each consumer's place in the log, committed with that consumer's effects.
      CREATE TABLE log_cursors (
        consumer TEXT PRIMARY KEY,
        position BIGINT NOT NULL
      );

      CREATE TABLE dead_letters (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        received_at BIGINT NOT NULL,
        site_id TEXT,
        device_id TEXT,
        topic TEXT NOT NULL,
        stage TEXT NOT NULL,
        reason TEXT NOT NULL,
        payload TEXT NOT NULL
      );
      CREATE INDEX dead_letters_device ON dead_letters (device_id, received_at);

      -- Counted by the projector in the transaction that moves its cursor: exactly once.
      CREATE TABLE device_hours (
        device_id TEXT NOT NULL,
        hour BIGINT NOT NULL, -- event time / 3,600,000
        readings BIGINT NOT NULL,
        PRIMARY KEY (device_id, hour)
      );

      -- A device's point at one depth ('' = none), with its history of readings (GB 50497-2019 §8.0.3).
      CREATE TABLE pit_series (
        site_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        point_code TEXT NOT NULL,
        depth_key TEXT NOT NULL DEFAULT '',
        item TEXT NOT NULL,
        baseline DOUBLE PRECISION NOT NULL,
        baseline_ts BIGINT NOT NULL,
        baseline_configured BOOLEAN NOT NULL DEFAULT false,
        last_value DOUBLE PRECISION,
        last_ts BIGINT,
        history TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (site_id, device_id, point_code, depth_key)
      );

      -- Threshold state per alert key, saved with each projected batch.
      CREATE TABLE rule_states (
        key TEXT PRIMARY KEY,
        state TEXT NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'thresholds: rule overrides, pit point settings, load charts, device settings, their changes and the counters roles poll',
    sql: `
      CREATE TABLE rule_overrides (
        site_id TEXT NOT NULL REFERENCES sites (id),
        rule_id TEXT NOT NULL,
        device_id TEXT NOT NULL DEFAULT '', -- '' = the whole site
        settings TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        PRIMARY KEY (site_id, rule_id, device_id)
      );
      CREATE TABLE point_settings (
        site_id TEXT NOT NULL REFERENCES sites (id),
        point_code TEXT NOT NULL,
        item TEXT NOT NULL,
        baseline DOUBLE PRECISION,
        design_value DOUBLE PRECISION,
        cumulative_alarm DOUBLE PRECISION,
        rate_alarm DOUBLE PRECISION,
        capacity DOUBLE PRECISION,
        prestress DOUBLE PRECISION,
        design_load DOUBLE PRECISION,
        differential_alarm DOUBLE PRECISION,
        pair_point_code TEXT,
        expected_interval_ms BIGINT,
        resolution DOUBLE PRECISION,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        PRIMARY KEY (site_id, point_code)
      );
      CREATE TABLE crane_load_charts (
        device_id TEXT PRIMARY KEY REFERENCES devices (id),
        chart TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
      );
      CREATE TABLE device_settings (
        device_id TEXT PRIMARY KEY REFERENCES devices (id),
        settings TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
      );
      -- Regulators read this (GET /api/overrides): an override that loosens a statutory limit
      -- can be undone, never hidden.
      CREATE TABLE settings_changes (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at TEXT NOT NULL,
        by TEXT NOT NULL,
        site_id TEXT NOT NULL,
        device_id TEXT,
        subject TEXT NOT NULL,
        change TEXT NOT NULL,
        laxer TEXT NOT NULL DEFAULT '[]'
      );
      CREATE INDEX settings_changes_site ON settings_changes (site_id, id);

      -- Roles (and nodes) learn of a change by polling a counter that triggers move.
      CREATE TABLE change_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
      INSERT INTO change_counters (name, value) VALUES ('settings', 0), ('credentials', 0);
      CREATE FUNCTION count_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN UPDATE change_counters SET value = value + 1 WHERE name = TG_ARGV[0]; RETURN NULL; END
      $$;
      CREATE TRIGGER rule_overrides_counted AFTER INSERT OR UPDATE OR DELETE ON rule_overrides
        FOR EACH STATEMENT EXECUTE FUNCTION count_change('settings');
      CREATE TRIGGER point_settings_counted AFTER INSERT OR UPDATE OR DELETE ON point_settings
        FOR EACH STATEMENT EXECUTE FUNCTION count_change('settings');
      CREATE TRIGGER crane_load_charts_counted AFTER INSERT OR UPDATE OR DELETE ON crane_load_charts
        FOR EACH STATEMENT EXECUTE FUNCTION count_change('settings');
      CREATE TRIGGER device_settings_counted AFTER INSERT OR UPDATE OR DELETE ON device_settings
        FOR EACH STATEMENT EXECUTE FUNCTION count_change('settings');
      -- A site's pit grade, depth and support are threshold inputs.
      CREATE TRIGGER sites_counted AFTER INSERT OR UPDATE OR DELETE ON sites
        FOR EACH STATEMENT EXECUTE FUNCTION count_change('settings');
      CREATE TRIGGER devices_credentials_changed AFTER UPDATE OF secret_hash, disabled_at OR DELETE ON devices
        FOR EACH STATEMENT EXECUTE FUNCTION count_change('credentials');
    `,
  },
  {
    version: 5,
    name: 'the manual-readings inbox between the API and the edge',
    sql: `
      -- The API files a submission; the edge (the log's only writer) claims it with the log's end,
      -- logs its readings and writes the answer in the same row.
      CREATE TABLE manual_inbox (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        site_id TEXT NOT NULL,
        entered_by TEXT NOT NULL,
        body TEXT NOT NULL,
        filed_at BIGINT NOT NULL,
        claimed_at BIGINT,
        result TEXT,
        done_at BIGINT
      );
      CREATE INDEX manual_inbox_pending ON manual_inbox (id) WHERE done_at IS NULL;
    `,
  },
]
