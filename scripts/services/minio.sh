#!/usr/bin/env bash
# A throw-away MinIO server for tests and local work, built from its Go module at a pinned version.
#
#   scripts/services/minio.sh install   build MinIO into the cache (once per machine); prints the binary's path
#   scripts/services/minio.sh start     start it on 127.0.0.1 with a fresh data dir; prints the env file to source
#   scripts/services/minio.sh stop      stop it (by the PID in the env file) and delete its data dir
#   scripts/services/minio.sh status    say whether the server in the env file is running
#
# Environment: MEDALLION_CACHE (binary cache root, default ~/.cache/medallion), MINIO_BIN (use this binary instead),
# MINIO_PORT / MINIO_CONSOLE_PORT (default: free ports), MINIO_ROOT_USER / MINIO_ROOT_PASSWORD (default: generated),
# MINIO_ENV_FILE (default: <repo>/.cache/services/minio.env).
set -euo pipefail

# Pinned: the pseudo-version `go install github.com/minio/minio@latest` resolved to (upstream stopped tagging
# module releases, so @latest is a moving commit; pin it so every machine runs the same server).
MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache_bin="${MEDALLION_CACHE:-$HOME/.cache/medallion}/bin"
env_file="${MINIO_ENV_FILE:-$repo_root/.cache/services/minio.env}"

service_name=minio.sh
# shellcheck source=scripts/services/common.sh
. "$repo_root/scripts/services/common.sh"

# The version a binary was built from, read from its embedded build info ('' when unknown).
built_version() {
  go version -m "$1" 2>/dev/null | awk '$1 == "mod" && $2 == "'"$MINIO_MODULE"'" { print $3 }'
}

cmd_install() {
  if [[ -n "${MINIO_BIN:-}" ]]; then
    [[ -x "$MINIO_BIN" ]] || die "MINIO_BIN=$MINIO_BIN is not an executable file"
    echo "$MINIO_BIN"
    return
  fi
  local bin="$cache_bin/minio"
  if [[ -x "$bin" ]]; then
    if ! command -v go >/dev/null; then
      echo "minio.sh: using cached $bin (no Go toolchain to check that it is $MINIO_VERSION)" >&2
      echo "$bin"
      return
    fi
    if [[ "$(built_version "$bin")" == "$MINIO_VERSION" ]]; then
      echo "$bin"
      return
    fi
    echo "minio.sh: cached $bin is $(built_version "$bin" || true), not $MINIO_VERSION: rebuilding" >&2
  fi
  command -v go >/dev/null ||
    die "cannot build MinIO: the Go toolchain ('go') is not on PATH. Install Go >= 1.24 (Debian: apt-get install golang-go, or https://go.dev/dl), or set MINIO_BIN to an existing minio binary."
  mkdir -p "$cache_bin"
  local log
  log="$(mktemp "${TMPDIR:-/tmp}/minio-build.XXXXXX.log")"
  echo "minio.sh: building $MINIO_MODULE@$MINIO_VERSION into $cache_bin (several minutes on a cold Go cache; log: $log)" >&2
  local started=$SECONDS
  if ! GOBIN="$cache_bin" go install "$MINIO_MODULE@$MINIO_VERSION" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "building MinIO failed (go install $MINIO_MODULE@$MINIO_VERSION with $(go version)); full log: $log. Without network access to the Go module proxy the build is impossible: set MINIO_BIN to a prebuilt minio binary."
  fi
  echo "minio.sh: built in $((SECONDS - started)) s" >&2
  rm -f "$log"
  echo "$bin"
}

random_hex() {
  node -e "console.log(require('crypto').randomBytes($1).toString('hex'))"
}

# True when $1 is the PID of a running minio process (guards against killing a recycled PID).
is_minio_pid() {
  pid_runs "$1" 'minio server'
}

cmd_start() {
  already_running MINIO_PID is_minio_pid && return
  local bin port console_port user password dir
  bin="$(cmd_install)"
  port="${MINIO_PORT:-$(free_port)}"
  console_port="${MINIO_CONSOLE_PORT:-$(free_port)}"
  [[ "$console_port" != "$port" ]] || console_port="$(free_port)"
  user="${MINIO_ROOT_USER:-medallion-$(random_hex 4)}"
  password="${MINIO_ROOT_PASSWORD:-$(random_hex 16)}"
  dir="$(mktemp -d "${TMPDIR:-/tmp}/medallion-minio.XXXXXX")"
  mkdir -p "$dir/data"

  # setsid: the server outlives this script and ignores the caller's Ctrl-C; stop it with `minio.sh stop`.
  MINIO_ROOT_USER="$user" MINIO_ROOT_PASSWORD="$password" MINIO_UPDATE=off MINIO_BROWSER_REDIRECT=off \
    setsid "$bin" server --quiet --address "127.0.0.1:$port" --console-address "127.0.0.1:$console_port" "$dir/data" \
    >"$dir/minio.log" 2>&1 </dev/null &
  local pid=$!

  local endpoint="http://127.0.0.1:$port"
  local deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null --max-time 2 "$endpoint/minio/health/live" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$dir/minio.log" >&2
      rm -rf "$dir"
      die "MinIO exited during start-up (log above)"
    fi
    if ((SECONDS > deadline)); then
      kill "$pid" 2>/dev/null || true
      cat "$dir/minio.log" >&2
      rm -rf "$dir"
      die "MinIO did not answer $endpoint/minio/health/live within 60 s"
    fi
    sleep 0.2
  done

  mkdir -p "$(dirname "$env_file")"
  umask 077
  cat >"$env_file" <<ENV
# Written by scripts/services/minio.sh start; source it (set -a; . $env_file; set +a).
MEDALLION_TEST_S3_ENDPOINT='$endpoint'
MEDALLION_TEST_S3_ACCESS_KEY='$user'
MEDALLION_TEST_S3_SECRET_KEY='$password'
MEDALLION_TEST_S3_REGION='us-east-1'
MINIO_PID='$pid'
MINIO_DATA_DIR='$dir/data'
MINIO_LOG='$dir/minio.log'
MINIO_CONSOLE='http://127.0.0.1:$console_port'
ENV
  echo "minio.sh: MinIO PID $pid listening on $endpoint (console http://127.0.0.1:$console_port)" >&2
  echo "$env_file"
}

cmd_stop() {
  if [[ ! -f "$env_file" ]]; then
    echo "minio.sh: no env file at $env_file; nothing to stop" >&2
    return
  fi
  local pid data_dir
  pid="$(read_env_value MINIO_PID)"
  data_dir="$(read_env_value MINIO_DATA_DIR)"
  if is_minio_pid "$pid"; then
    terminate_pid "$pid" TERM 100
    echo "minio.sh: stopped MinIO PID $pid" >&2
  else
    echo "minio.sh: PID ${pid:-?} is not a running MinIO; cleaning up" >&2
  fi
  remove_service_dir "$data_dir" medallion-minio
}

cmd_status() {
  service_status MINIO_PID MEDALLION_TEST_S3_ENDPOINT is_minio_pid
}

dispatch "${1:-}"
