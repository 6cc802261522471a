# Shared by the service scripts (minio.sh, postgres.sh): sourced, not run. Each script sets
# `service_name` (for messages) and `env_file` (the sourceable file `start` writes) before sourcing.

die() {
  echo "$service_name: $*" >&2
  exit 1
}

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

read_env_value() {
  sed -n "s/^$1='\(.*\)'$/\1/p" "$env_file"
}

# `status`: whether the server in the env file runs. $1: the env key of its PID, $2: of its address,
# $3: a function telling whether a PID is that server.
service_status() {
  local pid=""
  [[ -f "$env_file" ]] && pid="$(read_env_value "$1")"
  if "$3" "$pid"; then
    echo "running: PID $pid, $(read_env_value "$2") (env file $env_file)"
  else
    echo "not running"
    return 1
  fi
}

# Runs the subcommand named by $1 (install, start, stop, status) with the script's cmd_* functions.
dispatch() {
  case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    restart)
      declare -F cmd_restart >/dev/null || {
        echo "usage: $0 install|start|stop|status" >&2
        exit 2
      }
      cmd_restart
      ;;
    *)
      echo "usage: $0 install|start|stop|status$(declare -F cmd_restart >/dev/null && echo '|restart')" >&2
      exit 2
      ;;
  esac
}

# Sends signal $2 to PID $1 and waits up to $3 tenths of a second for it to exit; then SIGKILL.
terminate_pid() {
  local pid=$1 signal=$2 tenths=$3
  kill "-$signal" "$pid" 2>/dev/null || true
  for _ in $(seq 1 "$tenths"); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "$service_name: PID $pid ignored SIG$signal; sending SIGKILL" >&2
  kill -9 "$pid" 2>/dev/null || true
}

# Removes the private temp dir `start` made (named $2.*, holding data dir $1), and the env file.
remove_service_dir() {
  local data_dir=$1 prefix=$2
  if [[ -n "$data_dir" && "$(basename "$data_dir")" == data && "$(dirname "$data_dir")" == */"$prefix".* ]]; then
    rm -rf "$(dirname "$data_dir")"
  fi
  rm -f "$env_file"
}

# True when PID $1 is alive and its command line contains $2 (guards against acting on a recycled PID).
pid_runs() {
  [[ -n "$1" && -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q "$2"
}

# For `start`: when the env file names a live server ($1: its PID key, $2: the check), print the env
# file and succeed, so the caller returns instead of starting a second one.
already_running() {
  [[ -f "$env_file" ]] || return 1
  local old_pid
  old_pid="$(read_env_value "$1")"
  "$2" "$old_pid" || return 1
  echo "$service_name: already running (PID $old_pid); env file:" >&2
  echo "$env_file"
}
