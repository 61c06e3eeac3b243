# Shared by tools/faults.sh and tools/soak.sh (sourced): one nginx with the module in front of
# tools/dev_backend.py on a Unix socket, its backend switches, and /proc measurements.
# Everything lives in $run (build/<name>/); nothing outside it is touched.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python=/usr/bin/python3
nginx=/usr/sbin/nginx
module=$root/build/ngx_http_wa_pair_module.so
backend_pid=

say() { printf '%s %s\n' "$(date +%T)" "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }

# run_setup DIR PORT WORKERS ACCESS_LOG(on|off)
run_setup() {
    run=$1 port=$2
    local workers=$3 access=$4
    sock=$run/backend.sock
    rm -rf "$run" && mkdir -p "$run/logs" "$run/temp" && chmod 755 "$run" "$run/logs" "$run/temp"
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$run/jwt.secret"
    token=$($python "$root/tools/mint_jwt.py" --secret-file "$run/jwt.secret" --device-id load-1) \
        || die "cannot mint a token (python3-jwt)"
    local log="access_log off;"
    [ "$access" = on ] && log="log_format st '\$status \$request_time \$bytes_sent'; access_log $run/logs/access.log st;"
    cat > "$run/nginx.conf" <<CONF
load_module $module;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes $workers;
worker_rlimit_nofile 16384;
pid $run/nginx.pid;
error_log $run/logs/error.log notice;
events { worker_connections 4096; }
http {
    $log
    client_body_temp_path $run/temp/body;
    proxy_temp_path $run/temp/proxy;
    fastcgi_temp_path $run/temp/fastcgi;
    uwsgi_temp_path $run/temp/uwsgi;
    scgi_temp_path $run/temp/scgi;
    upstream engine {
        server unix:$sock;
        keepalive 32;
    }
    server {
        listen 127.0.0.1:$port;
        wa_pair_jwt_secret_file $run/jwt.secret;
        wa_pair_connect_timeout 1s;
        wa_pair_backend_timeout 2s;
        location = /devices/me/login-code {
            wa_pair;
            wa_pair_backend http://engine/v1/pair-code;
        }
        location = /slow {
            wa_pair;
            wa_pair_backend http://engine/v1/pair-code?delay=1;
        }
    }
}
CONF
}

nginx_start() {
    "$nginx" -p "$run/" -c "$run/nginx.conf" -e "$run/logs/error.log" || die "nginx did not start"
    local i
    for i in $(seq 50); do [ -s "$run/nginx.pid" ] && break; sleep 0.1; done
    master=$(cat "$run/nginx.pid")
}

nginx_signal() { "$nginx" -p "$run/" -c "$run/nginx.conf" -e "$run/logs/error.log" -s "$1"; }

nginx_stop() {
    [ -s "$run/nginx.pid" ] || return 0
    local pid
    pid=$(cat "$run/nginx.pid")
    kill -QUIT "$pid" 2> /dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2> /dev/null || return 0; sleep 0.1; done
    kill -TERM "$pid" 2> /dev/null
}

workers() { pgrep -P "$master" | sort -n | tr '\n' ' '; }

# The alarming lines of an error log: [alert], [crit], [emerg] and workers that died on a
# signal, but for the [crit] nginx itself writes when a unix: backend socket is missing or
# forbidden (connect() failing with ENOENT or EACCES is [crit] for proxy_pass too).
alarming_lines() {
    grep -aE '\[(alert|crit|emerg)\]|exited on signal' "$1" \
        | grep -avE '\[crit\].* connect\(\) to unix:[^ ]+ failed \((2: No such file or directory|13: Permission denied)\) while connecting to upstream'
}

# backend_start [dev_backend flags...]: a fresh backend on $sock, waits until it listens.
backend_start() {
    "$python" "$root/tools/dev_backend.py" --socket "$sock" "$@" >> "$run/backend.log" 2>&1 &
    backend_pid=$!
    local i
    for i in $(seq 100); do
        [ -S "$sock" ] && "$python" -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])" "$sock" 2> /dev/null && return 0
        sleep 0.05
    done
    die "the dev backend did not come up ($run/backend.log)"
}

# backend_stop [KILL]: TERM (it removes its socket) or KILL (the socket file stays, refused).
backend_stop() {
    [ -n "$backend_pid" ] || return 0
    kill -"${1:-TERM}" "$backend_pid" 2> /dev/null
    wait "$backend_pid" 2> /dev/null
    backend_pid=
}

backend_restart() { backend_stop; backend_start "$@"; }

# "fds rss_kb" of one process
proc_usage() {
    local pid=$1 fds rss
    fds=$(ls "/proc/$pid/fd" 2> /dev/null | wc -l)
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2> /dev/null)
    echo "$fds ${rss:-0}"
}

# one line per worker: "pid fds rss_kb"
snapshot() {
    local pid
    for pid in $(workers); do echo "$pid $(proc_usage "$pid")"; done
}

cleanup() {
    nginx_stop
    backend_stop
}
