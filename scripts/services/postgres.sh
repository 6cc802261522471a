#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for tests and local work, from the distribution's `postgresql` package.
#
#   scripts/services/postgres.sh install   install PostgreSQL when initdb/pg_ctl are missing; prints the bin dir
#   scripts/services/postgres.sh start     initdb a fresh cluster in a temp dir, start it on 127.0.0.1, create the
#                                          database medallion_test; prints the env file to source
#   scripts/services/postgres.sh stop      stop it (pg_ctl stop) and delete its data dir
#   scripts/services/postgres.sh status    say whether the server in the env file is running
#
# initdb and postgres refuse to run as root: as root, the cluster is created and run as the `postgres` user (made by
# the package). Authentication is `trust` on 127.0.0.1 only — a test server, never a real one.
#
# Environment: PG_BIN (directory holding initdb, pg_ctl, psql, createdb), POSTGRES_PORT (default: a free port),
# POSTGRES_ENV_FILE (default: <repo>/.cache/services/postgres.env).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
env_file="${POSTGRES_ENV_FILE:-$repo_root/.cache/services/postgres.env}"
database=medallion_test

service_name=postgres.sh
# shellcheck source=scripts/services/common.sh
. "$repo_root/scripts/services/common.sh"

# The directory with initdb and pg_ctl: PG_BIN, the newest /usr/lib/postgresql/*/bin, else PATH ('' when none).
find_bin_dir() {
  if [[ -n "${PG_BIN:-}" ]]; then
    [[ -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" ]] || die "PG_BIN=$PG_BIN has no initdb and pg_ctl"
    echo "$PG_BIN"
    return
  fi
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -rn); do
    if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
      echo "$dir"
      return
    fi
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(readlink -f "$(command -v initdb)")"
  fi
}

cmd_install() {
  local bin
  bin="$(find_bin_dir)"
  if [[ -n "$bin" ]]; then
    echo "$bin"
    return
  fi
  command -v apt-get >/dev/null ||
    die "PostgreSQL (initdb, pg_ctl) is not installed and apt-get is not available: install PostgreSQL >= 13 and set PG_BIN to its bin directory"
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || die "installing PostgreSQL needs root (apt-get install postgresql); run as root or install it first"
    sudo=(sudo)
  fi
  echo "postgres.sh: installing PostgreSQL (apt-get install -y postgresql)" >&2
  if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y postgresql >&2; then
    echo "postgres.sh: install failed; refreshing the package lists and retrying" >&2
    "${sudo[@]}" apt-get update >&2
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y postgresql >&2 || die "apt-get install postgresql failed"
  fi
  # The package also creates (and may start) a stock cluster on 5432; this script never uses it.
  bin="$(find_bin_dir)"
  [[ -n "$bin" ]] || die "postgresql is installed but initdb/pg_ctl were not found under /usr/lib/postgresql/*/bin"
  echo "$bin"
}

# Runs a command as the cluster's owner: `postgres` when we are root, else ourselves. From /, which every user
# can enter (the repo may not be readable by `postgres`).
as_owner() (
  cd /
  if [[ "$(id -u)" == 0 ]]; then
    # runuser needs no password; su is the fallback.
    if command -v runuser >/dev/null; then
      runuser -u postgres -- "$@"
    else
      su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
  else
    "$@"
  fi
)

# True when $1 is the PID of a running postgres postmaster (guards against acting on a recycled PID).
is_postgres_pid() {
  pid_runs "$1" 'postgres'
}

cmd_start() {
  already_running POSTGRES_PID is_postgres_pid && return
  local bin port dir
  bin="$(cmd_install)"
  if [[ "$(id -u)" == 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user to own the cluster (initdb refuses root)"
  fi
  port="${POSTGRES_PORT:-$(free_port)}"
  dir="$(mktemp -d "${TMPDIR:-/tmp}/medallion-postgres.XXXXXX")"
  mkdir -p "$dir/data" "$dir/socket"
  if [[ "$(id -u)" == 0 ]]; then
    chown -R postgres: "$dir"
  fi

  if ! as_owner "$bin/initdb" --auth=trust --username=postgres --encoding=UTF8 --locale=C -D "$dir/data" \
    >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    die "initdb failed (log above)"
  fi
  # Clients connect over TCP; a socket path past the kernel's 107 bytes (a deep TMPDIR) would stop the server.
  local sockets="$dir/socket"
  ((${#sockets} + 20 < 107)) || sockets=''
  # Small and fast: a throw-away server does not need durability.
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockets'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
shared_buffers = 64MB
CONF

  # pg_ctl -w waits until the server accepts connections; the server detaches (setsid) from this shell.
  if ! as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null; then
    cat "$dir/postgres.log" >&2 || true
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    die "PostgreSQL did not start (log above)"
  fi
  local pid
  pid="$(head -n 1 "$dir/data/postmaster.pid")"

  if ! "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c "CREATE DATABASE $database" >/dev/null; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    die "could not create the database $database"
  fi

  mkdir -p "$(dirname "$env_file")"
  umask 077
  cat >"$env_file" <<ENV
# Written by scripts/services/postgres.sh start; source it (set -a; . $env_file; set +a).
MEDALLION_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:$port/$database'
POSTGRES_PID='$pid'
POSTGRES_PORT='$port'
POSTGRES_DATA_DIR='$dir/data'
POSTGRES_LOG='$dir/postgres.log'
POSTGRES_BIN='$bin'
ENV
  echo "postgres.sh: PostgreSQL $("$bin/pg_ctl" --version | awk '{print $3}') PID $pid listening on 127.0.0.1:$port (database $database)" >&2
  echo "$env_file"
}

cmd_stop() {
  if [[ ! -f "$env_file" ]]; then
    echo "postgres.sh: no env file at $env_file; nothing to stop" >&2
    return
  fi
  local pid data_dir bin
  pid="$(read_env_value POSTGRES_PID)"
  data_dir="$(read_env_value POSTGRES_DATA_DIR)"
  bin="$(read_env_value POSTGRES_BIN)"
  [[ -n "$bin" ]] || bin="$(find_bin_dir)"
  if is_postgres_pid "$pid" && [[ -n "$data_dir" && -d "$data_dir" ]]; then
    if ! as_owner "$bin/pg_ctl" -D "$data_dir" -m fast -w -t 30 stop >/dev/null; then
      echo "postgres.sh: pg_ctl stop failed; sending SIGQUIT to PID $pid" >&2
      terminate_pid "$pid" QUIT 50
    fi
    echo "postgres.sh: stopped PostgreSQL PID $pid" >&2
  else
    echo "postgres.sh: PID ${pid:-?} is not a running PostgreSQL; cleaning up" >&2
  fi
  remove_service_dir "$data_dir" medallion-postgres
}

# Restarts the server on its data directory (a fast shutdown: connections are cut, as in a failover or an
# upgrade), and records its new PID.
cmd_restart() {
  [[ -f "$env_file" ]] || die "no env file at $env_file; nothing to restart"
  local data_dir bin pid
  data_dir="$(read_env_value POSTGRES_DATA_DIR)"
  bin="$(read_env_value POSTGRES_BIN)"
  [[ -n "$bin" ]] || bin="$(find_bin_dir)"
  as_owner "$bin/pg_ctl" -D "$data_dir" -l "$(read_env_value POSTGRES_LOG)" -m fast -w -t 60 restart >/dev/null ||
    die "pg_ctl restart failed (see $(read_env_value POSTGRES_LOG))"
  pid="$(head -n 1 "$data_dir/postmaster.pid")"
  sed -i "s/^POSTGRES_PID=.*/POSTGRES_PID='$pid'/" "$env_file"
  echo "postgres.sh: restarted PostgreSQL, now PID $pid" >&2
}

cmd_status() {
  service_status POSTGRES_PID MEDALLION_TEST_POSTGRES_URL is_postgres_pid
}

dispatch "${1:-}"
