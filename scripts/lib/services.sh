# shellcheck shell=bash
# Private, loopback-only servers for tests, benchmarks and the local run.
# Source this file; every function prints what it does on stderr and fails loudly.
#
# A private RabbitMQ node has its own node name, ports, data, logs and config under one directory,
# so it never touches another broker on the machine. Ports come from DOCSEND_PORT_BASE (default: the
# first free base from 21670 up, in steps of 30, below the ephemeral port range):
#   +1 AMQPS   +2 AMQP   +3 Erlang distribution   +4 management HTTP   +5 Prometheus   +6 PostgreSQL
#   +7 the Salesforce sandbox of scripts/run-local   +8, +9 spare

services_log() { printf '[services] %s\n' "$*" >&2; }

# Installs the Debian packages that are missing (apt-get update once, only when something is missing).
services_install() {
    local wanted=(rabbitmq-server librabbitmq-dev libcurl4-openssl-dev pkg-config openssl curl postgresql libsqlite3-dev "$@")
    local missing=()
    local package
    for package in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if ((${#missing[@]})); then
        services_log "installing ${missing[*]}"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# services_ports_free BASE: whether BASE+1 … BASE+9 are all free on loopback.
services_ports_free() {
    local port
    for port in $(seq $(($1 + 1)) $(($1 + 9))); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 1; fi
    done
}

# services_pick_port_base: exports DOCSEND_PORT_BASE, the one given or the first free one from 21670 up
# in steps of 30, so that runs side by side (CI, a developer, a benchmark) do not collide.
services_pick_port_base() {
    if [ -n "${DOCSEND_PORT_BASE:-}" ]; then
        services_ports_free "$DOCSEND_PORT_BASE" || { services_log "ports above DOCSEND_PORT_BASE=$DOCSEND_PORT_BASE are taken"; return 1; }
        return 0
    fi
    local base
    for base in $(seq 21670 30 22570); do
        if services_ports_free "$base"; then
            export DOCSEND_PORT_BASE="$base"
            return 0
        fi
    done
    services_log "no free port base found between 21670 and 22570"
    return 1
}

# rabbitmq_start DIR: starts a private node whose files live in DIR; exports DOCSEND_RABBITMQ_* variables.
rabbitmq_start() {
    local dir="$1"
    services_pick_port_base
    local base="$DOCSEND_PORT_BASE"
    local amqps_port=$((base + 1)) amqp_port=$((base + 2)) dist_port=$((base + 3))
    local management_port=$((base + 4)) prometheus_port=$((base + 5))
    local node="docsend-sync-${base}@localhost"
    mkdir -p "$dir"/{mnesia,log,tls}
    rabbitmq_make_tls "$dir/tls"
    cat >"$dir/rabbitmq.conf" <<EOF
listeners.tcp.local = 127.0.0.1:$amqp_port
listeners.ssl.local = 127.0.0.1:$amqps_port
ssl_options.cacertfile = $dir/tls/ca.pem
ssl_options.certfile = $dir/tls/server.pem
ssl_options.keyfile = $dir/tls/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
management.tcp.ip = 127.0.0.1
management.tcp.port = $management_port
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = $prometheus_port
log.file.level = info
EOF
    echo "[rabbitmq_management,rabbitmq_prometheus]." >"$dir/enabled_plugins"
    chown -R rabbitmq:rabbitmq "$dir" 2>/dev/null || true
    chmod 755 "$dir"
    # The node runs as the rabbitmq user: it must be able to reach DIR (mktemp -d makes 0700 folders).
    chmod a+x "$(dirname "$dir")"

    export RABBITMQ_NODENAME="$node" RABBITMQ_NODE_PORT="$amqp_port" RABBITMQ_DIST_PORT="$dist_port"
    export RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_PID_FILE="$dir/rabbitmq.pid"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" RABBITMQ_CONFIG_FILE="$dir/rabbitmq"
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1 ERL_CRASH_DUMP="$dir/log/erl_crash.dump"
    # Erlang distribution listens on every interface unless told otherwise: keep it on loopback.
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    # Erlang starts epmd (its port mapper daemon) when none runs; rabbitmq_stop stops it again then.
    if epmd -names >/dev/null 2>&1; then unset DOCSEND_EPMD_STARTED; else export DOCSEND_EPMD_STARTED=1; fi
    services_log "starting RabbitMQ $node (amqp $amqp_port, amqps $amqps_port, management $management_port) in $dir"
    rabbitmq-server >"$dir/server.out" 2>&1 &
    echo $! >"$dir/server.launcher.pid"

    local waited=0
    until rabbitmqctl -n "$node" -q await_startup >/dev/null 2>&1; do
        waited=$((waited + 1))
        if ((waited > 90)) || ! kill -0 "$(cat "$dir/server.launcher.pid")" 2>/dev/null; then
            services_log "RabbitMQ did not start; its output:"
            tail -n 40 "$dir/server.out" >&2 || true
            tail -n 40 "$dir/log/"*.log >&2 2>/dev/null || true
            return 1
        fi
        sleep 1
    done
    export DOCSEND_RABBITMQ_DIR="$dir" DOCSEND_RABBITMQ_NODE="$node"
    export DOCSEND_RABBITMQ_URL="amqp://guest:guest@127.0.0.1:$amqp_port/"
    export DOCSEND_RABBITMQ_TLS_URL="amqps://guest:guest@localhost:$amqps_port/"
    export DOCSEND_RABBITMQ_CA_FILE="$dir/tls/ca.pem"
    export DOCSEND_RABBITMQ_MANAGEMENT_URL="http://127.0.0.1:$management_port"
    export DOCSEND_RABBITMQ_PROMETHEUS_URL="http://127.0.0.1:$prometheus_port"
    services_log "RabbitMQ is up after ${waited}s"
}

# rabbitmq_stop: stops the node started by rabbitmq_start (safe to call twice, or when none runs).
rabbitmq_stop() {
    [ -n "${DOCSEND_RABBITMQ_NODE:-}" ] || [ -n "${RABBITMQ_NODENAME:-}" ] || return 0
    local node="${DOCSEND_RABBITMQ_NODE:-$RABBITMQ_NODENAME}"
    local dir="${DOCSEND_RABBITMQ_DIR:-${RABBITMQ_MNESIA_BASE%/mnesia}}"
    services_log "stopping RabbitMQ $node"
    # With the node's pid file, rabbitmqctl returns once the node's process has exited.
    timeout 60 rabbitmqctl -n "$node" -q stop "$dir/rabbitmq.pid" >/dev/null 2>&1 || true
    if [ -f "$dir/server.launcher.pid" ]; then
        local pid
        pid="$(cat "$dir/server.launcher.pid")"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    # The node's Erlang VM runs as the rabbitmq user under a child of the launcher; make sure it is gone.
    pkill -u rabbitmq -f -- "-sname $node" 2>/dev/null || pkill -f -- "$node" 2>/dev/null || true
    # epmd refuses to stop while another node is registered with it.
    if [ -n "${DOCSEND_EPMD_STARTED:-}" ]; then epmd -kill >/dev/null 2>&1 || true; fi
    unset DOCSEND_RABBITMQ_NODE RABBITMQ_NODENAME DOCSEND_EPMD_STARTED
}

# rabbitmq_make_tls DIR: a throwaway CA and a server certificate for localhost / 127.0.0.1.
rabbitmq_make_tls() {
    local dir="$1"
    [ -f "$dir/server.pem" ] && return 0
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=docsend-sync test CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
        -extfile "$dir/server.ext" -out "$dir/server.pem" >/dev/null 2>&1
    chmod 644 "$dir"/*.pem "$dir"/*.key
}

# postgres_start DIR: starts a private PostgreSQL (trust auth, loopback only, socket in DIR) whose files live in DIR,
# on port DOCSEND_PORT_BASE+6; exports DOCSEND_POSTGRES_* variables. initdb and pg_ctl refuse root: they run as the
# postgres user.
postgres_start() {
    local dir="$1"
    # Next to a broker started by rabbitmq_start, on the same base; alone, on a free base of its own.
    [ -n "${DOCSEND_PORT_BASE:-}" ] || services_pick_port_base
    local port=$((DOCSEND_PORT_BASE + 6))
    local bin
    bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -z "$bin" ]; then
        services_log "PostgreSQL is not installed (apt-get install postgresql)"
        return 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        services_log "port $port is taken: set DOCSEND_PORT_BASE to another base"
        return 1
    fi
    local run_as=()
    [ "$(id -u)" -ne 0 ] || run_as=(runuser -u postgres --)
    mkdir -p "$dir"
    [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$dir"
    chmod 700 "$dir"
    # The server runs as the postgres user: it must be able to reach DIR (mktemp -d makes 0700 folders).
    chmod a+x "$(dirname "$dir")"
    services_log "starting PostgreSQL on 127.0.0.1:$port in $dir"
    "${run_as[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
        services_log "initdb failed:"; tail -n 20 "$dir/initdb.log" >&2; return 1
    }
    "${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null || {
        services_log "PostgreSQL did not start; its log:"; tail -n 40 "$dir/log" >&2 || true; return 1
    }
    export DOCSEND_POSTGRES_DIR="$dir" DOCSEND_POSTGRES_BIN="$bin"
    export DOCSEND_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
    services_log "PostgreSQL is up"
}

# postgres_stop: stops the server started by postgres_start (safe to call twice, or when none runs).
postgres_stop() {
    [ -n "${DOCSEND_POSTGRES_DIR:-}" ] || return 0
    local run_as=()
    [ "$(id -u)" -ne 0 ] || run_as=(runuser -u postgres --)
    services_log "stopping PostgreSQL"
    "${run_as[@]}" "$DOCSEND_POSTGRES_BIN/pg_ctl" -D "$DOCSEND_POSTGRES_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    unset DOCSEND_POSTGRES_DIR
}
