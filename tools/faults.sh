#!/usr/bin/env bash
# `make faults`: the module under load while its backend fails in every way, then reload and
# quit under load. Exits non-zero when a check fails. Takes about 2.5 minutes.
#
# Part 1 (FAULT_SECONDS, default 60): one nginx (2 workers, 127.0.0.1:7501) in front of
# tools/dev_backend.py on a Unix socket; wrk at 256 connections POSTs the login body with a
# valid token while a chaos loop kills the backend (-9: the socket stays, refused) and
# restarts it, makes it slow (within and beyond wa_pair_backend_timeout 2s), makes it answer
# garbage (not JSON, a bad code, no code, not HTTP, closed, trickling, bad chunking, 10 MB),
# answer 500, 429 and 409, and removes its socket. Checks:
#   - every response is the well-formed envelope docs/protocol.md gives for its status
#     (tools/load/envelope.lua checks each one), and no request errors (reset, timeout);
#   - no worker exits on a signal (same worker pids; no "exited on signal" in the log), no
#     [alert], [crit] or [emerg] (but nginx's own [crit] for the removed socket, as for
#     proxy_pass: tools/load/lib.sh alarming_lines);
#   - after a healthy settle run and a pause, each worker's open fds are back to the baseline
#     taken after the warm-up (within the 32 backend connections the upstream block keeps
#     alive) and its RSS
#     within 10% + 2 MB of it.
# Part 2: nginx (2 workers, 127.0.0.1:7502) with 64 clients (half waiting 1 s on the backend,
# so calls are always in flight): `nginx -s reload` twice, then `nginx -s quit`. Every
# request nginx accepted is answered with a well-formed 200 envelope, none is reset, no
# [alert] (tools/load/reload_client.py).
set -uo pipefail
cd "$(dirname "$0")/.."
source tools/load/lib.sh

seconds=${FAULT_SECONDS:-60}
command -v wrk > /dev/null || die "wrk is not installed (tools/deps.sh)"
make -s module || die "make module failed"
failures=()
check() {  # check DESCRIPTION COMMAND...
    if "${@:2}"; then say "ok   $1"; else say "FAIL $1"; failures+=("$1"); fi
}
trap cleanup EXIT

# wrk_run SECONDS OUT: wrk at 256 connections with tools/load/envelope.lua
wrk_run() {
    wrk -t2 -c256 -d"$1"s --timeout 10s --latency -s tools/load/envelope.lua \
        "http://127.0.0.1:$port/devices/me/login-code" -- "$token" > "$2" 2>&1
}
field() { sed -n "s/^$1 //p" "$2"; }
status_counts() { field STATUS "$1" | awk '{ printf "%s%s=%s", sep, $1, $2; sep = " " }'; }
all_ok() {  # a run where every response is a valid envelope and no request failed
    [ "$(field BAD "$1")" = 0 ] && field ERRORS "$1" | grep -q 'connect=0 read=0 write=0 timeout=0'
}
only_200() { [ "$(field STATUS "$1" | awk '$1 != 200' | wc -l)" = 0 ] && [ -n "$(field STATUS "$1")" ]; }

# ---------------------------------------------------------------- part 1: faults
run_setup "$root/build/faults" 7501 2 off
backend_start
nginx_start
say "nginx $master, workers $(workers)on 127.0.0.1:$port; backend unix:$sock"

# The baseline is taken after the worker has served its peak: 256 calls in flight at once
# (the backend slow for a while) as well as a fast healthy run. Memory a worker took for
# that peak stays with glibc's allocator and is not a leak; growth beyond it would be.
say "warm-up: 6 s of healthy load, 6 s with the backend 0.5 s slow"
wrk_run 6 "$run/warmup.txt"
check "warm-up: every response a 200 envelope ($(status_counts "$run/warmup.txt"))" \
    eval 'all_ok "$run/warmup.txt" && only_200 "$run/warmup.txt"'
backend_restart --delay 0.5
wrk_run 6 "$run/warmup-slow.txt"
check "warm-up (slow backend): every response a 200 envelope ($(status_counts "$run/warmup-slow.txt"))" \
    eval 'all_ok "$run/warmup-slow.txt" && only_200 "$run/warmup-slow.txt"'
backend_restart
sleep 2
pids_before=$(workers)
snapshot > "$run/before.txt"

chaos() {
    local end=$((SECONDS + seconds)) step
    local steps=(
        "kill:backend killed (-9), socket left: refused"
        "up:healthy"
        "flags --delay 0.5:slow, within the timeout"
        "flags --delay 3:slower than wa_pair_backend_timeout"
        "flags --garbage notjson:answers not JSON"
        "flags --garbage badcode:answers a bad code"
        "flags --garbage nocode:answers no code"
        "flags --garbage http:answers not HTTP"
        "flags --garbage close:closes without answering"
        "flags --garbage chunked-bad:bad chunked encoding"
        "flags --garbage trickle:trickles one byte per 0.5 s"
        "flags --garbage huge:answers 10 MB"
        "rm:socket removed"
        "flags --status 500:answers 500"
        "flags --status 429:answers 429"
        "flags --status 409:answers 409"
        "up:healthy"
    )
    while [ $SECONDS -lt $end ]; do
        for step in "${steps[@]}"; do
            [ $SECONDS -lt $end ] || break
            local action=${step%%:*} what=${step#*:}
            echo "$(date +%T) $what" >> "$run/chaos.log"
            case $action in
                kill) backend_stop KILL ;;
                up) backend_restart ;;
                rm) [ -n "$backend_pid" ] || backend_start; rm -f "$sock" ;;
                flags*) backend_restart ${action#flags } ;;
            esac
            sleep 3
        done
    done
    backend_restart
}

say "faults: ${seconds} s of wrk at 256 connections while the backend fails (steps: $run/chaos.log)"
wrk_run "$seconds" "$run/faults.txt" &
wrk_pid=$!
chaos
wait $wrk_pid
say "faults: $(field RESPONSES "$run/faults.txt") responses: $(status_counts "$run/faults.txt")"
say "faults: $(field ERRORS "$run/faults.txt"); invalid envelopes: $(field BAD "$run/faults.txt")"
field BAD_SAMPLE "$run/faults.txt" | sed 's/^/    bad: /'
check "faults: every response a well-formed envelope of its status, no request failed" \
    all_ok "$run/faults.txt"

say "settle: 8 s of healthy load"
wrk_run 8 "$run/settle.txt"
check "settle: every response a 200 envelope again ($(status_counts "$run/settle.txt"))" \
    eval 'all_ok "$run/settle.txt" && only_200 "$run/settle.txt"'
sleep 3
snapshot > "$run/after.txt"
check "no worker exited: same worker pids ($pids_before)" test "$(workers)" = "$pids_before"
signals=$(grep -c 'exited on signal' "$run/logs/error.log")
alerts=$(alarming_lines "$run/logs/error.log" | wc -l)
check "no \"exited on signal\" in the error log ($signals)" test "$signals" = 0
check "no [alert], [crit] or [emerg] in the error log ($alerts)" test "$alerts" = 0
alarming_lines "$run/logs/error.log" | head -3
say "per worker: pid fds rss_kb, before (after warm-up) -> after (after settle + 3 s)"
join "$run/before.txt" "$run/after.txt" | while read -r pid f1 r1 f2 r2; do
    echo "    worker $pid: fds $f1 -> $f2, rss ${r1} kB -> ${r2} kB"
done
# The upstream block keeps up to 32 backend connections alive per worker: how many were open
# at either moment depends on the last burst, so fds may differ by that much, never more.
check "fds back to baseline (within the 32 kept-alive backend connections)" \
    awk 'NR==FNR { f[$1] = $2; next } ($1 in f) && $2 > f[$1] + 32 { bad = 1 } END { exit bad }' \
    "$run/before.txt" "$run/after.txt"
check "RSS back to baseline (within 10% + 2 MB)" \
    awk 'NR==FNR { r[$1] = $3; next } ($1 in r) && $3 > r[$1] * 1.10 + 2048 { bad = 1 } END { exit bad }' \
    "$run/before.txt" "$run/after.txt"
nginx_stop
backend_stop

# ---------------------------------------------------------------- part 2: reload and quit
run_setup "$root/build/reload" 7502 2 on
backend_start
nginx_start
say "reload/quit: nginx $master on 127.0.0.1:$port, 64 clients (32 waiting 1 s on the backend)"
"$python" tools/load/reload_client.py "$port" "$token" 10 64 "$run/quit-at" > "$run/client.json" &
client_pid=$!
sleep 2.5; say "nginx -s reload"; nginx_signal reload
sleep 2.5; say "nginx -s reload"; nginx_signal reload
sleep 2.5; date +%s.%N > "$run/quit-at"; say "nginx -s quit"; nginx_signal quit
quit_start=$(date +%s%N)
for _ in $(seq 100); do kill -0 "$master" 2> /dev/null || break; sleep 0.1; done
if kill -0 "$master" 2> /dev/null; then
    say "FAIL nginx did not exit within 10 s of the quit"; failures+=("nginx did not exit after the quit")
else
    say "nginx exited $(( ($(date +%s%N) - quit_start) / 1000000 )) ms after the quit (calls in flight finished first)"
fi
wait $client_pid
summary=$(cat "$run/client.json")
jq() { "$python" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$run/client.json" "$1"; }
logged=$(wc -l < "$run/logs/access.log")
logged_200=$(awk '$1 == 200' "$run/logs/access.log" | wc -l)
say "reload/quit: answered $(jq 'd["answered"]') (200: $(jq 'd["status"].get("200",0)'), valid $(jq 'd["ok"]')), failed $(jq 'd["failed"]'), refused after the quit $(jq 'd["refused"]'), connected after the quit and never accepted $(jq 'd["unaccepted"]')"
say "reload/quit: nginx's access log: $logged requests, $logged_200 with 200"
[ "$(jq 'd["failed"]')" = 0 ] || jq 'd["failed_samples"]'
check "reload/quit: every answer a well-formed 200 envelope" test "$(jq 'd["bad"]')" = 0
check "reload/quit: no accepted request failed or was reset" test "$(jq 'd["failed"]')" = 0
check "reload/quit: every request nginx logged was answered 200 to the client" \
    test "$logged" = "$(jq 'd["answered"]')" -a "$logged_200" = "$logged"
alerts=$(alarming_lines "$run/logs/error.log" | wc -l)
check "reload/quit: no [alert], [crit], [emerg] or signal exit in the error log ($alerts)" test "$alerts" = 0
alarming_lines "$run/logs/error.log" | head -3

echo
if [ ${#failures[@]} -gt 0 ]; then
    printf 'FAILED: %s\n' "${failures[@]}"
    exit 1
fi
echo "make faults: OK"
