#!/usr/bin/env bash
# shellcheck disable=SC2317  # finish() and stop() run from traps
# The Debian package in the system's own nginx (docs/metrics.md). Builds it (`make deb`: lintian
# must find nothing), installs it with dpkg, checks `nginx -t` with the stock
# /etc/nginx/nginx.conf and the package's example site adapted to a test engine, runs the
# system nginx with its stock configuration (workers as www-data, as the service runs them),
# gets a pairing code from the development backend through the installed module, stops
# nginx, then removes and purges the package and checks that nothing of it is left.
#
# The machine's nginx is left as found. /etc/nginx is copied before and compared after:
# a difference is a failure, and the copy is put back. What nginx itself touches when it
# runs with the stock configuration is put back too: the lines it appended to
# /var/log/nginx, the temp directories it made or chowned in /var/lib/nginx, /run/nginx.pid.
#
# Runs as root on Debian, with the system nginx installed but not running and ports 80 (the
# stock default site) and $WA_PAIR_DEB_TEST_PORT (2184) free; anywhere else it prints why it
# skips. One ok/FAIL line per check, then "N passed, N failed" (tools/test.sh counts it).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

pkg=libnginx-mod-http-wa-pair
port=${WA_PAIR_DEB_TEST_PORT:-2184}
nginx=/usr/sbin/nginx
python=/usr/bin/python3
site=/etc/nginx/sites-enabled/wa-pair-deb-test.conf
so=/usr/lib/nginx/modules/ngx_http_wa_pair_module.so
available=/usr/share/nginx/modules-available/mod-http-wa-pair.conf
enabled=/etc/nginx/modules-enabled/50-mod-http-wa-pair.conf
example=./usr/share/doc/$pkg/examples/wa-pair-site.conf   # in the .deb
passed=0 failed=0
tmp='' deb='' nginx_pid='' backend_pid='' installed=''

say() { echo "   $*"; }
skip() { echo "skip: $*"; echo "0 passed, 0 failed"; exit 0; }
check() {  # description, command...: prints ok or FAIL
    local what=$1; shift
    if "$@"; then echo "ok - $what"; passed=$((passed + 1)); return 0; fi
    echo "FAIL - $what"; failed=$((failed + 1)); return 1
}
logged() {  # log, command...: runs it quietly; on failure shows the log's end
    local log=$1; shift
    "$@" > "$log" 2>&1 && return 0
    tail -n 30 "$log" | sed 's/^/   | /'
    return 1
}
all_exist() {  # every path read from stdin exists
    local p ok=0
    while read -r p; do [ -e "$p" ] || { say "missing: $p"; ok=1; }; done
    return $ok
}
none_exist() {  # path...: none exists, not even as a dangling link
    local p ok=0
    for p in "$@"; do
        if [ -e "$p" ] || [ -L "$p" ]; then say "left: $p"; ok=1; fi
    done
    return $ok
}
none_in() { ! grep -E -m5 "$2" "$1"; }  # file, pattern: no line matches (else shows them)
state() { dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || echo absent; }
port_busy() { [ -n "$(ss -Hnlt "sport = :$1" 2>/dev/null)" ]; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
workers() { ps -o user= --ppid "$nginx_pid" | tr -d ' ' | sort -u; }

# A child that has exited stays a zombie until waited for, so `kill -0` is not enough.
running() {
    local s
    s=$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$s" ] && [ "$s" != Z ]
}
stop() {  # pid [signal]: the signal (TERM), then KILL after 10 s
    local pid=$1
    [ -n "$pid" ] || return 0
    kill "-${2:-TERM}" "$pid" 2>/dev/null || true
    for _ in $(seq 100); do running "$pid" || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# Every path under /etc/nginx: type, mode, owner, link target, then every file's checksum.
etc_state() {
    (cd /etc/nginx && find . -printf '%y %m %u:%g %p -> %l\n' | LC_ALL=C sort &&
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}
# What running nginx with the stock configuration touches: "type mode owner size path".
var_state() {
    find /var/lib/nginx /var/log/nginx \( -type f -printf '%y %m %u:%g %s %p\n' \) \
        -o -printf '%y %m %u:%g - %p\n' 2>/dev/null | LC_ALL=C sort -k5
    [ -e /run/nginx.pid ] && echo "f - - - /run/nginx.pid"   # nginx -t makes it, quit removes it
    return 0
}
restore_var() {  # back to $tmp/var.before: truncate the logs, remove what is new, chown back
    local type mode owner size path
    while read -r type mode owner size path; do
        [ -e "$path" ] || continue
        [ "$path" = /run/nginx.pid ] && continue
        if [ "$type" = f ] && [ "$(stat -c %s "$path")" -gt "$size" ]; then
            truncate -s "$size" "$path"          # the test's own lines, at the end
        fi
        chown "$owner" "$path"; chmod "$mode" "$path"
    done < "$tmp/var.before"
    [ -e "$tmp/nginx.pid" ] && [ ! -e /run/nginx.pid ] && cp -a "$tmp/nginx.pid" /run/nginx.pid
    var_state | sort -r -k5 | while read -r type mode owner size path; do
        grep -qxF -- "$path" "$tmp/var.paths" && continue
        if [ "$type" = d ]; then rmdir "$path"; else rm -f "$path"; fi   # nginx's empty temp dirs
    done
    return 0
}

finish() {
    trap - EXIT INT TERM
    stop "$nginx_pid" QUIT
    stop "$backend_pid"
    rm -f "$site"
    if [ -n "$installed" ] && [ "$(state)" != absent ] && [ "$(state)" != not-installed ]; then
        say "purging $pkg after an aborted run"
        dpkg -P "$pkg" > "$tmp/dpkg-cleanup.log" 2>&1 || cat "$tmp/dpkg-cleanup.log"
    fi
    if [ -s "$tmp/etc.before" ]; then
        etc_state > "$tmp/etc.after"
        if ! check "/etc/nginx is as the test found it" cmp -s "$tmp/etc.before" "$tmp/etc.after"; then
            diff "$tmp/etc.before" "$tmp/etc.after" | head -20
            rm -rf /etc/nginx && cp -a "$tmp/etc-nginx" /etc/nginx
            if etc_state | cmp -s - "$tmp/etc.before"; then say "restored /etc/nginx from the copy"
            else say "could not restore /etc/nginx: its copy is in $tmp/etc-nginx"; fi
        fi
        restore_var
        var_state > "$tmp/var.after"
        check "what nginx touched in /var/lib/nginx, /var/log/nginx, /run/nginx.pid is put back" \
            cmp -s "$tmp/var.before" "$tmp/var.after" \
            || diff "$tmp/var.before" "$tmp/var.after" | head -20
    fi
    if [ -d "$tmp/etc-nginx" ] && [ "$failed" -gt 0 ] && ! etc_state | cmp -s - "$tmp/etc.before"; then
        say "kept $tmp (the copy of /etc/nginx)"
    else
        rm -rf "$tmp"
    fi
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

# Where the test may run without changing or disturbing anything.
[ "$(id -u)" -eq 0 ] || skip "not root (installing a package needs root)"
[ -r /etc/debian_version ] || skip "not Debian"
if ! command -v dpkg > /dev/null || ! command -v dpkg-buildpackage > /dev/null; then
    skip "no dpkg or dpkg-buildpackage (apt-get install dpkg-dev)"
fi
if [ "$(dpkg-query -W -f='${db:Status-Status}' nginx 2>/dev/null)" != installed ] || [ ! -x "$nginx" ]; then
    skip "the system nginx is not installed (apt-get install nginx)"
fi
case $(state) in absent|not-installed) ;; *) skip "$pkg is installed here ($(state)): the test would remove it" ;; esac
if [ -s /run/nginx.pid ] && running "$(cat /run/nginx.pid)"; then
    skip "the system nginx is running (pid $(cat /run/nginx.pid)): the test does not touch a live server"
fi
port_busy 80 && skip "port 80 is in use (the stock default site listens on it)"
port_busy "$port" && skip "port $port is in use (WA_PAIR_DEB_TEST_PORT chooses another)"

tmp=$(mktemp -d /tmp/wa-pair-deb-test.XXXXXX)
chmod 755 "$tmp"   # the workers (www-data) reach the engine's socket in it
trap finish EXIT
trap 'echo "interrupted"; failed=$((failed + 1)); finish' INT TERM

# 1. The package.
check "make deb builds the package and lintian finds nothing" \
    logged "$tmp/make-deb.log" make -s deb || exit
deb=$(ls "build/deb/${pkg}_"*"_$(dpkg --print-architecture).deb")
say "$deb"
abi=$(dpkg-query -W -f='${Provides}' nginx | grep -o 'nginx-abi-[^ ,]*')
check "it depends on the ABI of the system nginx ($abi)" \
    grep -qF ", $abi," <<< ", $(dpkg-deb -f "$deb" Depends),"
dpkg-deb --fsys-tarfile "$deb" | tar -tf - | sed 's|^\./|/|; s|/$||' | grep -v '^/\?$' > "$tmp/paths"
while read -r p; do [ -e "$p" ] || [ -L "$p" ] || echo "$p"; done < "$tmp/paths" > "$tmp/new-paths"

# 2. Install into the system's nginx; a copy of its configuration first.
cp -a /etc/nginx "$tmp/etc-nginx"
etc_state > "$tmp/etc.before"
var_state > "$tmp/var.before"
[ -e /run/nginx.pid ] && cp -a /run/nginx.pid "$tmp/nginx.pid"
awk '{print $5}' "$tmp/var.before" > "$tmp/var.paths"
installed=yes
check "dpkg -i installs it" logged "$tmp/dpkg-i.log" dpkg -i "$deb" || exit
check "the module is in /usr/lib/nginx/modules, as built" \
    cmp -s <(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ".$so") "$so"
check "$available loads it" \
    test "$(cat "$available")" = "load_module modules/ngx_http_wa_pair_module.so;"
check "$enabled links to it" test "$(readlink "$enabled")" = "$available"
check "every file of the package is installed" all_exist < <(dpkg -L "$pkg")

# 3. The stock nginx.conf with the package's example site, adapted to the test's engine.
"$python" -c 'import secrets; print(secrets.token_urlsafe(32))' > "$tmp/jwt.secret"
chmod 600 "$tmp/jwt.secret"
dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "$example" \
    | sed -e "s|unix:/run/wa-pair/engine.sock;|unix:$tmp/engine.sock;|" \
          -e "s|listen 127.0.0.1:8080;|listen 127.0.0.1:$port;|" \
          -e "s|/etc/nginx/wa-pair/jwt.secret;|$tmp/jwt.secret;|" > "$site"
check "the example site takes the test's engine socket, port and secret" \
    test "$(grep -cF -e "unix:$tmp/engine.sock;" -e "listen 127.0.0.1:$port;" -e "$tmp/jwt.secret;" "$site")" = 3
check "nginx -t: the stock nginx.conf loads the module and the example site" \
    logged "$tmp/nginx-t.log" "$nginx" -t

# 4. A pairing code through the installed module, from the development backend.
"$python" tools/dev_backend.py --socket "$tmp/engine.sock" 2> "$tmp/backend.log" &
backend_pid=$!
for _ in $(seq 50); do
    curl -sf --unix-socket "$tmp/engine.sock" http://localhost/_stats > /dev/null && break
    sleep 0.1
done
"$nginx" -g 'daemon off;' 2> "$tmp/nginx.stderr" &   # the service's nginx, in the foreground
nginx_pid=$!
for _ in $(seq 100); do port_open && [ -n "$(workers)" ] && break; running "$nginx_pid" || break; sleep 0.1; done
check "the system nginx starts with the stock configuration" port_open || cat "$tmp/nginx.stderr"
check "its workers run as www-data ($(workers | paste -sd,))" test "$(workers)" = www-data
token=$("$python" tools/mint_jwt.py --secret-file "$tmp/jwt.secret" --device-id deb-test-device)
answer=$(curl -s --max-time 10 -w '\n%{http_code}' "http://127.0.0.1:$port/devices/me/login-code" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data '{"phone":"+62 812-3456-7890"}')
say "${answer//$'\n'/ -> }"
code='[1-9A-HJ-NP-TV-Z]{4}-[1-9A-HJ-NP-TV-Z]{4}'
check "POST /devices/me/login-code answers 200 with a pairing code" grep -qxE \
    "\{\"status\":true,\"code\":200,\"message\":\"Pairing code generated successfully\",\"data\":\{\"pair_code\":\"$code\",\"timeout\":120\}\} 200" \
    <<< "${answer//$'\n'/ }"
check "the code came from the development backend (one call)" \
    "$python" -c 'import json, sys; sys.exit(json.load(sys.stdin)["requests"] != 1)' \
    < <(curl -s --unix-socket "$tmp/engine.sock" http://localhost/_stats)
stop "$nginx_pid" QUIT; nginx_pid=''
stop "$backend_pid"; backend_pid=''
log_before=$(awk '$5 == "/var/log/nginx/error.log" {print $4}' "$tmp/var.before")
tail -c +"$((${log_before:-0} + 1))" /var/log/nginx/error.log > "$tmp/error.log" 2>/dev/null
check "nginx logged no [emerg], [alert] or [crit]" \
    none_in "$tmp/error.log" '\[(emerg|alert|crit)\]'
rm -f "$site"

# 5. Remove, then purge: nothing of the package is left.
check "dpkg -r removes it" logged "$tmp/dpkg-r.log" dpkg -r "$pkg"
check "the module and its load_module file are gone" none_exist "$so" "$available"
check "modules-enabled no longer loads it" none_exist "$enabled"
check "its link waits as ${enabled##*/}.removed until purge (dh_nginx's way)" test -L "$enabled.removed"
check "nginx -t passes without it" logged "$tmp/nginx-t2.log" "$nginx" -t
check "dpkg -P purges it" logged "$tmp/dpkg-p.log" dpkg -P "$pkg"
check "dpkg no longer knows it ($(state))" grep -qxE 'absent|not-installed' <<< "$(state)"
mapfile -t brought < "$tmp/new-paths"
check "no file or directory it brought is left (${#brought[@]})" none_exist "${brought[@]}"
check "no modules-enabled link is left" none_exist "$enabled" "$enabled.removed"
check "no maintainer script of it is left" none_exist /var/lib/dpkg/info/"$pkg".*
