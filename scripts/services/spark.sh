#!/usr/bin/env bash
# A throw-away Spark standalone cluster (a master, two workers) with a Spark Connect server attached, for tests and
# local work, from the pinned PyPI `pyspark` distribution (it bundles Spark's jars and launch scripts; Java 17 runs it).
#
#   scripts/services/spark.sh install   install pyspark into a cached venv (once per machine); prints SPARK_HOME
#   scripts/services/spark.sh start     start master, workers and Connect server on 127.0.0.1; prints the env file
#   scripts/services/spark.sh stop      stop them (by the PIDs in the env file) and delete their temp dir
#   scripts/services/spark.sh status    say whether the Connect server in the env file is running
#
# Environment: SPARK_VENV (default <repo>/.cache/spark/venv), SPARK_CONNECT_PORT (default: a free port),
# SPARK_WORKERS (default 2), SPARK_WORKER_MEMORY (default 1g), SPARK_EXECUTOR_MEMORY (default 512m),
# SPARK_DRIVER_MEMORY (default 1g), SPARK_LAKE=1 (Delta Lake and s3a, below), SPARK_PACKAGES (more Maven
# coordinates for the Connect server, comma separated), SPARK_EXTRA_CONF (more --conf key=value, space separated),
# SPARK_ENV_FILE (default <repo>/.cache/services/spark.env).
#
# SPARK_LAKE=1 adds, from Maven Central (resolved once with Spark's bundled Ivy into <repo>/.cache/spark/ivy: ~700 MB,
# most of it the AWS SDK bundle hadoop-aws needs; ~40 s cold, ~10 s warm):
#   - io.delta:delta-spark_4.2_2.13:4.4.0 with Delta's SQL extension and catalog: `delta.\`path\`` tables,
#     DESCRIBE HISTORY, VERSION AS OF (there is no Delta for Spark 4.3 yet: keep pyspark at 4.2);
#   - org.apache.hadoop:hadoop-aws:3.5.0 (the Hadoop pyspark 4.2.0 bundles; it brings the AWS SDK v2 bundle) for
#     s3a:// paths. Point a session at MinIO with session settings under their Hadoop names (fs.s3a.endpoint,
#     fs.s3a.access.key, fs.s3a.secret.key, fs.s3a.path.style.access=true, fs.s3a.endpoint.region; the
#     spark.hadoop.* forms are read only when the server starts). Verified: Parquet and Delta on a MinIO bucket.
# The jars go on the driver's and executors' class path from the local cache, not through --packages: with
# --packages every executor copies all 700 MB from the driver before its first task (a minute, gigabytes of temp
# files). Jars Spark already bundles (Scala, Parquet, log4j… in other versions) are left out.
set -euo pipefail

PYSPARK_VERSION=4.2.0
LAKE_PACKAGES=io.delta:delta-spark_4.2_2.13:4.4.0,org.apache.hadoop:hadoop-aws:3.5.0

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${SPARK_VENV:-$repo_root/.cache/spark/venv}"
env_file="${SPARK_ENV_FILE:-$repo_root/.cache/services/spark.env}"

service_name=spark.sh
# shellcheck source=scripts/services/common.sh
. "$repo_root/scripts/services/common.sh"

# SPARK_HOME of the venv's pyspark when it is the pinned version ('' otherwise).
spark_home() {
  [[ -x "$venv/bin/python" ]] || return 0
  "$venv/bin/python" - "$PYSPARK_VERSION" <<'PY' 2>/dev/null || true
import os, sys
import pyspark
if pyspark.__version__ == sys.argv[1]:
    print(os.path.dirname(pyspark.__file__))
PY
}

cmd_install() {
  local home
  home="$(spark_home)"
  if [[ -n "$home" ]]; then
    echo "$home"
    return
  fi
  command -v java >/dev/null || die "Spark needs Java 17 or 21 on PATH (Debian: apt-get install openjdk-17-jre-headless)"
  command -v python3 >/dev/null || die "installing pyspark needs python3 with the venv module"
  echo "spark.sh: installing pyspark==$PYSPARK_VERSION into $venv (about a minute; ~450 MB)" >&2
  local started=$SECONDS
  [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv" || die "python3 -m venv $venv failed (Debian: apt-get install python3-venv)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pyspark==$PYSPARK_VERSION" >&2 ||
    die "pip install pyspark==$PYSPARK_VERSION failed (needs PyPI)"
  home="$(spark_home)"
  [[ -n "$home" ]] || die "pyspark==$PYSPARK_VERSION installed but is not importable from $venv"
  echo "spark.sh: installed in $((SECONDS - started)) s" >&2
  echo "$home"
}

# True when $1 is the PID of a running Spark process whose command line holds $2 (guards against a recycled PID).
is_connect_pid() {
  pid_runs "$1" 'org.apache.spark.sql.connect.service.SparkConnectServer'
}
is_master_pid() {
  pid_runs "$1" 'org.apache.spark.deploy.master.Master'
}
is_worker_pid() {
  pid_runs "$1" 'org.apache.spark.deploy.worker.Worker'
}

# A free port not among the ones already taken by this start ($@).
another_port() {
  local port
  while :; do
    port="$(free_port)"
    [[ " $* " == *" $port "* ]] || break
  done
  echo "$port"
}

# True when 127.0.0.1:$1 accepts a TCP connection.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The PIDs of $1's children.
children_of() {
  ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' | tr '\n' ' '
}

# The PIDs of worker $1's executors (it also runs short-lived helpers).
executors_of() {
  local pid
  for pid in $(children_of "$1"); do
    pid_runs "$pid" CoarseGrainedExecutorBackend && echo "$pid"
  done
  return 0
}

# Listening TCP sockets of PIDs $@ bound to an address other than loopback (empty when none).
non_loopback_listeners() {
  local pids="|$(echo "$*" | tr ' ' '|')|"
  ss -Hltnp 2>/dev/null | while read -r _ _ _ local_address _ process; do
    local pid
    pid="$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$process")"
    [[ -n "$pid" && "$pids" == *"|$pid|"* ]] || continue
    case "$local_address" in
      127.0.0.1:* | '[::ffff:127.0.0.1]:'* | '[::1]:'*) ;;
      *) echo "$local_address (PID $pid)" ;;
    esac
  done
}

# After a failed start: kills PIDs $2… and their children, prints the tails of the logs, removes the cluster's
# temp dir ($dir) and dies with message $1.
abort_start() {
  local message=$1
  shift
  local pid
  for pid in "$@"; do
    kill -9 $(children_of "$pid") 2>/dev/null || true
    kill -9 "$pid" 2>/dev/null || true
  done
  local log
  for log in "$dir"/logs/*.log; do
    echo "---- tail of $log" >&2
    tail -n 40 "$log" >&2
  done
  rm -rf "$dir"
  die "$message"
}

# Resolves the lake packages ($LAKE_PACKAGES) with the Ivy jar Spark bundles into a directory of jars, once; prints
# the directory. $1: SPARK_HOME.
resolve_lake_jars() {
  local home=$1 ivy_dir="$repo_root/.cache/spark/ivy"
  local jars="$ivy_dir/lake-${LAKE_PACKAGES//[:,]/_}"
  if [[ -f "$jars/.complete" ]]; then
    echo "$jars"
    return
  fi
  local ivy_jar
  ivy_jar="$(compgen -G "$home/jars/ivy-*.jar" | head -n 1)" || die "no Ivy jar in $home/jars"
  mkdir -p "$ivy_dir"
  local module="$ivy_dir/lake-ivy.xml" coordinates dependencies='' org name rev
  for coordinates in ${LAKE_PACKAGES//,/ }; do
    IFS=: read -r org name rev <<<"$coordinates"
    dependencies+="    <dependency org=\"$org\" name=\"$name\" rev=\"$rev\" conf=\"default->default\"/>"$'\n'
  done
  cat >"$module" <<XML
<ivy-module version="2.0">
  <info organisation="medallion" module="spark-lake"/>
  <dependencies>
$dependencies  </dependencies>
</ivy-module>
XML
  echo "spark.sh: resolving $LAKE_PACKAGES from Maven Central into $ivy_dir (once)" >&2
  rm -rf "$jars"
  java -jar "$ivy_jar" -ivy "$module" -cache "$ivy_dir/cache" -types jar \
    -retrieve "$jars/[artifact]@[revision](-[classifier]).[ext]" >"$ivy_dir/resolve.log" 2>&1 ||
    die "resolving $LAKE_PACKAGES failed (needs Maven Central); log: $ivy_dir/resolve.log"
  # Spark's own jars win: a second copy in another version on the class path (put first) would break it.
  local jar artifact
  for jar in "$jars"/*.jar; do
    artifact="$(basename "$jar")"
    artifact="${artifact%%@*}"
    if compgen -G "$home/jars/$artifact-[0-9]*.jar" >/dev/null || [[ "$artifact" == hadoop-client-* ]]; then
      rm "$jar"
    else
      mv "$jar" "${jar/@/-}"
    fi
  done
  touch "$jars/.complete"
  echo "$jars"
}

cmd_start() {
  already_running SPARK_CONNECT_PID is_connect_pid && return
  command -v ss >/dev/null || die "the loopback check needs ss (Debian: apt-get install iproute2)"
  local home workers=${SPARK_WORKERS:-2} worker_memory=${SPARK_WORKER_MEMORY:-1g}
  home="$(cmd_install)"
  local lake_jars=''
  if [[ "${SPARK_LAKE:-}" == 1 ]]; then
    lake_jars="$(resolve_lake_jars "$home")"
  fi
  local taken=() master_port master_ui connect_port connect_ui
  master_port="$(another_port)" && taken+=("$master_port")
  master_ui="$(another_port "${taken[@]}")" && taken+=("$master_ui")
  connect_port="${SPARK_CONNECT_PORT:-$(another_port "${taken[@]}")}" && taken+=("$connect_port")
  connect_ui="$(another_port "${taken[@]}")" && taken+=("$connect_ui")
  dir="$(mktemp -d "${TMPDIR:-/tmp}/medallion-spark.XXXXXX")"
  mkdir -p "$dir/data/warehouse" "$dir/data/local" "$dir/data/tmp" "$dir/logs" "$dir/conf"
  local started=$SECONDS

  # Every Spark process binds to loopback: SPARK_LOCAL_IP for the ports the flags do not name. The daemons need
  # little heap; the executors get theirs from the Connect server's settings. An empty conf dir keeps a
  # machine-wide SPARK_CONF_DIR out. (SPARK_DAEMON_MEMORY is the daemons' alone: spark-submit takes it too, and
  # a driver needs 450 MB at least.)
  export SPARK_HOME="$home" SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_DIRS="$dir/data/local" SPARK_CONF_DIR="$dir/conf" \
    SPARK_LOG_DIR="$dir/logs"
  local master_url="spark://127.0.0.1:$master_port"
  # setsid: the processes outlive this script and ignore the caller's Ctrl-C; `spark.sh stop` stops them by PID.
  # spark-class ends in `exec java`, so $! is the JVM's PID. Started from the data dir: Spark writes
  # spark-warehouse/, metastore_db/ and derby.log into its working directory.
  # The master's REST submission server would take the fixed port 6066: off, so that two clusters can run at once.
  (cd "$dir/data" && SPARK_DAEMON_MEMORY=256m SPARK_MASTER_OPTS=-Dspark.master.rest.enabled=false \
    SPARK_DAEMON_JAVA_OPTS="-Djava.io.tmpdir=$dir/data/tmp" \
    exec setsid "$home/bin/spark-class" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$master_port" --webui-port "$master_ui" >"$dir/logs/master.log" 2>&1 </dev/null) &
  local master_pid=$! pids=()
  pids+=("$master_pid")
  local deadline=$((SECONDS + 60))
  until port_open "$master_port"; do
    kill -0 "$master_pid" 2>/dev/null || abort_start "the Spark master exited during start-up (logs above)" "${pids[@]}"
    ((SECONDS < deadline)) || abort_start "the Spark master did not listen on $master_url within 60 s" "${pids[@]}"
    sleep 0.2
  done

  local worker_pids=() i worker_ui
  for i in $(seq 1 "$workers"); do
    worker_ui="$(another_port "${taken[@]}")" && taken+=("$worker_ui")
    mkdir -p "$dir/data/worker-$i"
    (cd "$dir/data" && SPARK_DAEMON_MEMORY=256m SPARK_DAEMON_JAVA_OPTS="-Djava.io.tmpdir=$dir/data/tmp" \
      exec setsid "$home/bin/spark-class" org.apache.spark.deploy.worker.Worker \
      --host 127.0.0.1 --webui-port "$worker_ui" --cores 1 --memory "$worker_memory" \
      --work-dir "$dir/data/worker-$i" "$master_url" >"$dir/logs/worker-$i.log" 2>&1 </dev/null) &
    worker_pids+=($!)
    pids+=($!)
  done

  # One executor of one core per worker (spark.executor.cores=1, spark.cores.max = the workers' cores); the
  # executor memory leaves the worker's own heap room in its --memory.
  local submit=(
    "$home/bin/spark-submit" --class org.apache.spark.sql.connect.service.SparkConnectServer
    --name medallion-spark-connect --master "$master_url"
    --driver-memory "${SPARK_DRIVER_MEMORY:-1g}"
    --conf spark.connect.grpc.binding.address=127.0.0.1
    --conf "spark.connect.grpc.binding.port=$connect_port"
    --conf spark.driver.host=127.0.0.1
    --conf spark.driver.bindAddress=127.0.0.1
    --conf "spark.ui.port=$connect_ui"
    --conf spark.executor.cores=1
    --conf "spark.executor.memory=${SPARK_EXECUTOR_MEMORY:-512m}"
    --conf "spark.cores.max=$workers"
    --conf spark.sql.session.timeZone=UTC
    --conf "spark.sql.warehouse.dir=$dir/data/warehouse"
    --conf "spark.local.dir=$dir/data/local"
    # The JVMs' own temp files (spark-<uuid> dirs) in the cluster's dir, not /tmp.
    --driver-java-options "-Djava.io.tmpdir=$dir/data/tmp"
    --conf "spark.executor.extraJavaOptions=-Djava.io.tmpdir=$dir/data/tmp"
  )
  local packages="${SPARK_PACKAGES:-}"
  if [[ "${SPARK_LAKE:-}" == 1 ]]; then
    submit+=(
      --driver-class-path "$lake_jars/*"
      --conf "spark.executor.extraClassPath=$lake_jars/*"
      --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension
      --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog
      # Delta rebuilds a table's state from its log in 50 tasks by default: 10 s on two one-core executors for
      # a 10-row table. One task per core suits test-sized tables (a session may set it back).
      --conf "spark.databricks.delta.snapshotPartitions=$workers"
    )
  fi
  if [[ -n "$packages" ]]; then
    mkdir -p "$repo_root/.cache/spark/ivy"
    submit+=(--packages "$packages" --conf "spark.jars.ivy=$repo_root/.cache/spark/ivy")
  fi
  if [[ -n "${SPARK_EXTRA_CONF:-}" ]]; then
    local conf
    for conf in $SPARK_EXTRA_CONF; do submit+=(--conf "$conf"); done
  fi
  submit+=(spark-internal)
  (cd "$dir/data" && exec setsid "${submit[@]}" >"$dir/logs/connect.log" 2>&1 </dev/null) &
  local connect_pid=$!
  pids+=("$connect_pid")

  deadline=$((SECONDS + 120))
  until port_open "$connect_port"; do
    kill -0 "$connect_pid" 2>/dev/null ||
      abort_start "the Spark Connect server exited during start-up (logs above)" "${pids[@]}"
    ((SECONDS < deadline)) ||
      abort_start "Spark Connect did not listen on 127.0.0.1:$connect_port within 120 s" "${pids[@]}"
    sleep 0.5
  done
  local listening=$((SECONDS - started))

  # Each worker launches its executor once the Connect server's application registers: wait for them, so that
  # the first query runs on the whole cluster and the loopback check sees the executors' ports too.
  local worker executors=()
  deadline=$((SECONDS + 60))
  for worker in "${worker_pids[@]}"; do
    until [[ -n "$(executors_of "$worker")" ]]; do
      ((SECONDS < deadline)) || abort_start "worker PID $worker started no executor within 60 s" "${pids[@]}"
      sleep 0.5
    done
    executors+=($(executors_of "$worker"))
  done
  sleep 2 # the executors open their ports right after they start
  local exposed
  exposed="$(non_loopback_listeners "${pids[@]}" "${executors[@]}")"
  [[ -z "$exposed" ]] || abort_start "Spark listens beyond loopback: $exposed" "${pids[@]}"

  mkdir -p "$(dirname "$env_file")"
  umask 077
  cat >"$env_file" <<ENV
# Written by scripts/services/spark.sh start; source it (set -a; . $env_file; set +a).
SPARK_HOME='$home'
SPARK_CONNECT_REMOTE='sc://127.0.0.1:$connect_port'
SPARK_MASTER_URL='$master_url'
SPARK_MASTER_UI_URL='http://127.0.0.1:$master_ui'
SPARK_UI_URL='http://127.0.0.1:$connect_ui'
SPARK_MASTER_PID='$master_pid'
SPARK_WORKER_PIDS='${worker_pids[*]}'
SPARK_CONNECT_PID='$connect_pid'
SPARK_CONNECT_PACKAGES='$([[ "${SPARK_LAKE:-}" == 1 ]] && echo "$LAKE_PACKAGES${packages:+,}")$packages'
SPARK_DATA_DIR='$dir/data'
SPARK_LOG_DIR='$dir/logs'
ENV
  echo "spark.sh: Spark Connect PID $connect_pid on sc://127.0.0.1:$connect_port after ${listening} s (master $master_url, ${workers} workers, executors: ${executors[*]})" >&2
  echo "$env_file"
}

# Stops PID $1 if it still is the process $2 checks (TERM, then KILL after $3 tenths of a second).
stop_pid() {
  if "$2" "$1"; then
    terminate_pid "$1" TERM "$3"
    echo "spark.sh: stopped PID $1" >&2
  fi
}

cmd_stop() {
  if [[ ! -f "$env_file" ]]; then
    echo "spark.sh: no env file at $env_file; nothing to stop" >&2
    return
  fi
  local worker executors=() pid
  # The Connect server first (its application ends cleanly), then the workers, whose executors are their
  # children: those are collected before and killed after, should a worker die without reaping them.
  stop_pid "$(read_env_value SPARK_CONNECT_PID)" is_connect_pid 200
  for worker in $(read_env_value SPARK_WORKER_PIDS); do
    is_worker_pid "$worker" || continue
    executors+=($(executors_of "$worker"))
    stop_pid "$worker" is_worker_pid 100
  done
  for pid in "${executors[@]}"; do
    pid_runs "$pid" CoarseGrainedExecutorBackend && terminate_pid "$pid" TERM 50
  done
  stop_pid "$(read_env_value SPARK_MASTER_PID)" is_master_pid 100
  remove_service_dir "$(read_env_value SPARK_DATA_DIR)" medallion-spark
}

cmd_status() {
  service_status SPARK_CONNECT_PID SPARK_CONNECT_REMOTE is_connect_pid
}

dispatch "${1:-}"
