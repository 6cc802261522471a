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
    *)
      echo "usage: $0 install|start|stop|status" >&2
      exit 2
      ;;
  esac
}
