/** The CLI's help texts, one per command (`siteward <command> --help`). */
export const help = {
  main: `Usage: siteward <command> [options]

Commands:
  serve                 run the broker, rule engine and HTTP API in the foreground
  site add              create or update a site
  device add            create a device and print its secret (shown once)
  device set            a device's expected interval; a crane's capacity and limits
  device disable|enable refuse a device's logins (and close its connection), or allow them again
  device rotate-secret  give a device a new secret (shown once); the old one stops working
  token create          create an API token (shown once)
  token list            every token: role, scope, created, revoked (never the token itself)
  token revoke          revoke a token: its requests get 401, its alert streams end
  rule list             the thresholds in force, where they come from, UNCONFIRMED marks
  rule set              override a rule's thresholds for a site or one device
  point set             configure a pit point (baseline, design values, alarm values)
  simulate              simulated cranes and pit monitors publishing over MQTT (scenarios)

Run "siteward <command> --help" for a command's options. Configuration comes from
SITEWARD_* environment variables (see the README); provisioning commands work on
SITEWARD_DATA_DIR while "serve" runs.`,
  serve: `Usage: siteward serve [--role edge|worker|api]

Runs the MQTT broker, rule engine and HTTP API until SIGINT or SIGTERM, then
flushes and exits 0. Each of the three roles runs in a thread of its own; if one
fails, the others stop too and the exit code is 1. Configured by SITEWARD_*
environment variables.
  --role edge     only the MQTT broker and the write-ahead log
  --role worker   only projection, rules, alerts, escalation, telemetry shipping
  --role api      only the HTTP API and web console
A role run alone uses the same SITEWARD_DATA_DIR as the others, on this machine.`,
  site: `Usage: siteward site add --id S --name N --region R [--pit-grade 1|2|3|none] [--pit-depth-m H|none]
                        [--support-type pile_wall|soil_nailing|cement_soil_wall|slope|none]
                        [--rock-socketed true|false] [--base-slab-cast true|false]

Creates the site, or updates it when the id exists. Prints the site as JSON.
  --id              site id (letters, digits, "_", "-", ".")
  --name            display name
  --region          region code, e.g. the 6-digit administrative division code 330106
  --pit-grade       foundation pit safety grade (GB 50497-2019): 1, 2 or 3
  --pit-depth-m     design excavation depth H in metres (the %H limits need it)
  --support-type    the support structure, a row of GB 50497-2019 Table 8.0.4: pile_wall
                    (piles, diaphragm walls, sheet piles, SMW), soil_nailing, cement_soil_wall, slope
  --rock-socketed   whether the retaining wall is socketed into rock
  --base-slab-cast  once the base slab is cast, pit rate limits are × 0.7 (§8.0.3)`,
  device: `Usage: siteward device add --site S --id D --kind crane|pit [--name N]
       siteward device disable --id D | device enable --id D | device rotate-secret --id D
       siteward device set --id D [--expected-interval 30s|15m|24h|none]
                          [--rated-capacity-t N|none] [--hook-height-max-m N|none]
                          [--radius-min-m N|none] [--radius-max-m N|none] [--forbidden-slew FROM-TO|none]...

add: creates a device and prints {"siteId","deviceId","kind","secret"}. The secret is
shown once and stored only as a hash: give it to the device as its MQTT password.
set: changes a device's settings ("none" removes one) and prints them:
  --expected-interval   how often it reports (a manual survey: 24h); silence beyond 4 of
                        these raises a data gap
  --rated-capacity-t    a crane's maximum rated load: a lift's maxLoadT is judged against it
  --hook-height-max-m   the site's hook height limit (airspace, power lines)
  --radius-min-m, --radius-max-m   the radius the trolley may work in
  --forbidden-slew      a sector the jib may not enter, clockwise FROM-TO in degrees (repeat)
disable: its logins are refused (CONNACK 5) and a running engine closes its connection
within seconds; its data and alerts stay. enable: lets it log in again.
rotate-secret: prints a new secret like add does; the old secret stops working at once.`,
  token: `Usage: siteward token create --role officer|supervisor|regulator|admin --name N [--site S]... [--region R]
       siteward token list [--json]
       siteward token revoke --id ID

create: prints {"id","token","role",...}. The token is shown once and stored only as a hash.
list: every token with its id, role, scope, creation and revocation (never the token).
revoke: for good; requests with it get 401 and its open alert streams end within seconds.
  --site     a site the officer or supervisor works on (repeatable, required for them)
  --region   the region a regulator supervises (omit for everywhere)`,
  rule: `Usage: siteward rule list [--site S] [--device D] [--json]
       siteward rule set --site S --rule R [--device D] [--warning N|none] [--alarm N|none] [--critical N|none]
                         [--hysteresis N] [--min-samples N] [--enabled true|false]

list: the thresholds in force, per rule (and pit point), where each comes from (rule
default, an override, the site's grade and depth, a design value), UNCONFIRMED marks and
what a rule still needs (a designer's value, a crane's limit). Without --site: the catalogue.
set: overrides a rule of the catalogue (SITEWARD_RULES_DIR) for a site, or for one of its
devices. Stricter is always allowed; laxer only within the bounds RULES.md names for the
rule, and no level the rule has can be removed. Every change is recorded for regulators.
The running engine picks the change up within seconds.`,
  point: `Usage: siteward point set --site S --point P --item I [--baseline N] [--design-value N]
                         [--capacity N] [--prestress N] [--design-load N]
                         [--cumulative-alarm N] [--rate-alarm N] [--pair P --differential-alarm N]
                         [--expected-interval 24h] [--resolution N]

Configures a pit point (replacing what was set before): its baseline (initial value), its
design values and the designer's alarm values, which replace the table defaults
(GB 50497-2019 §8.0.1).
  --capacity            the member's capacity f2 (strut and anchor maximum, internal force)
  --prestress           the prestress design value fy (anchor and strut minimum)
  --design-load         the design load f1 (earth and pore pressure)
  --design-value        the value force rules use when the specific one is not given
  --pair, --differential-alarm   differential settlement against another point, in mm
  --expected-interval   how often the point is read: its own data-gap watch
  --resolution          the instrument's resolution, at which derived values are compared`,
} as const
