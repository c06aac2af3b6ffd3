#!/bin/sh
# Runs InfluxDB 1.x for Siteward in the foreground, its data in one folder.
set -eu

usage() {
  cat <<USAGE
usage: infra/run-influxdb.sh [DIR]

Starts influxd (Debian: apt-get install influxdb) with infra/influxdb/influxdb.conf, keeping its
data in DIR (default: data/influxdb). Stop it with Ctrl-C. Then run Siteward with
  SITEWARD_INFLUX_URL=http://127.0.0.1:8086 npm start
(the engine creates its database, SITEWARD_INFLUX_DB, when missing).

environment:
  INFLUX_HTTP_BIND   address the HTTP API listens on (default 127.0.0.1)
  INFLUX_HTTP_PORT   HTTP API port (default 8086)
  INFLUX_RPC_PORT    backup/restore port, always on loopback (default 8088)
USAGE
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  -*) echo "run-influxdb: unknown option $1" >&2; usage >&2; exit 2 ;;
esac
if [ "$#" -gt 1 ]; then
  echo "run-influxdb: one folder at most, got $#" >&2
  usage >&2
  exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-data/influxdb}
bind=${INFLUX_HTTP_BIND:-127.0.0.1}
http_port=${INFLUX_HTTP_PORT:-8086}
rpc_port=${INFLUX_RPC_PORT:-8088}
for port in "$http_port" "$rpc_port"; do
  case "$port" in
    '' | *[!0-9]*) echo "run-influxdb: port must be a number, got '$port'" >&2; exit 2 ;;
  esac
done
if ! command -v influxd >/dev/null 2>&1; then
  echo "run-influxdb: influxd is not on PATH (Debian: apt-get install influxdb)" >&2
  exit 1
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
config="$dir/influxdb.conf"
# The folder goes into a sed replacement: escape what sed would read as syntax.
dir_for_sed=$(printf '%s' "$dir" | sed 's/[&|\\]/\\&/g')
sed -e "s|@DIR@|$dir_for_sed|g" -e "s|@HTTP_BIND@|$bind|g" -e "s|@HTTP_PORT@|$http_port|g" \
  -e "s|@RPC_PORT@|$rpc_port|g" "$here/influxdb/influxdb.conf" >"$config"
echo "run-influxdb: data in $dir, HTTP on $bind:$http_port" >&2
exec influxd -config "$config"
