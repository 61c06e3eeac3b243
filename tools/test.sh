#!/usr/bin/env bash
# `make test`: the GoogleTest core suite, a short run of every fuzz target, the Debian
# package installed into the system's nginx and purged (tools/deb_test.sh, as root on Debian),
# every Test::Nginx file against the built module (the real Test::Nginx when installed, else
# the runner in t/lib), then an audit of the error logs of the whole suite. Ends with one
# "N passed, N failed" line.
#
# The time goes mostly to compiling (CPU) and to the Test::Nginx files (mostly waiting on
# timers, clients and backends), so the two overlap: once the module is built, the .t files run
# in WA_PAIR_TEST_SHARDS groups at once (default 3; 1 under valgrind), each with its own
# TEST_NGINX_PORT (the base port, default 1984, plus the group's index minus one) and
# TEST_NGINX_SERVROOT (t/servroot-<index>); each group takes the next file of one queue, the
# slowest first (slow_first below). Meanwhile the Debian package test runs, and the unit tests
# and the fuzz targets are built and run; the sections are then checked and printed in their
# usual order.
set -uo pipefail
cd "$(dirname "$0")/.."

build=build
out_dir=${WA_PAIR_TEST_OUT:-$build}   # TAP outputs and the collected error logs
mkdir -p "$out_dir" "$build"
audit_log=$out_dir/suite-error.log
passed=0
failed=0
problems=()
t0=$EPOCHREALTIME

elapsed() {  # seconds since the start, one decimal
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}
section() { echo "== $* [$(elapsed) s]"; }

count_gtest() {  # adds the counts of a GoogleTest run's output file
    local out=$1 p f
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    if [ -z "$p$f" ]; then failed=$((failed + 1)); problems+=("unit: no result (crashed?)"); fi
}

count_tap() {  # adds the counts of one .t file's TAP output
    local out=$1 file=$2 ok notok
    ok=$(grep -c '^ok ' "$out")
    notok=$(grep -c '^not ok ' "$out")
    passed=$((passed + ok))
    failed=$((failed + notok))
    if [ "$notok" -gt 0 ]; then problems+=("$file: $notok failed"); fi
}

# WA_PAIR_SUITE_ONLY=1: only the Test::Nginx suites and the log audit, against the nginx and
# module named by TEST_NGINX_BINARY and TEST_NGINX_LOAD_MODULES (make asan, make valgrind).
suite_only=${WA_PAIR_SUITE_ONLY:-}

# ---------------------------------------------------------------- the Test::Nginx suite

# The files that take longest (measured), in that order: they start first, so that the groups
# end together. A file not named here runs after them; the list only orders, it never selects.
slow_first=(
    t/zone_fail_closed.t t/faults.t t/session_start.t t/zone.t t/jwks.t t/protocols.t
    t/transport.t t/nonblocking.t t/events.t t/jwt_keys.t t/auth.t t/backend.t
)
mapfile -t suite_files < <(printf '%s\n' t/*.t t/lib/selftest/*.t)
queue=()
for f in "${slow_first[@]}"; do
    printf '%s\n' "${suite_files[@]}" | grep -qxF "$f" && queue+=("$f")
done
for f in "${suite_files[@]}"; do
    printf '%s\n' "${slow_first[@]}" | grep -qxF "$f" || queue+=("$f")
done

shards=${WA_PAIR_TEST_SHARDS:-$([ -n "${TEST_NGINX_USE_VALGRIND:-}" ] && echo 1 || echo 3)}
base_port=${TEST_NGINX_PORT:-${TEST_NGINX_SERVER_PORT:-1984}}
servroot_base=${TEST_NGINX_SERVROOT:-$PWD/t/servroot}
shard_dir=$out_dir/shards
shard_pids=()

next_file() {  # prints the queue's next file (none when it is empty); one taker at a time
    local n
    {
        flock 9
        n=$(cat "$shard_dir/next")
        echo $((n + 1)) > "$shard_dir/next"
    } 9> "$shard_dir/lock"
    [ "$n" -lt "${#queue[@]}" ] && echo "${queue[$n]}"
}

run_shard() {  # index: runs queued files until the queue is empty
    local k=$1 file out start
    export TEST_NGINX_PORT=$((base_port + k - 1))
    unset TEST_NGINX_SERVER_PORT TEST_NGINX_CLIENT_PORT
    export TEST_NGINX_SERVROOT=$servroot_base-$k
    # the audit's inputs, one set per group (concatenated when every group is done)
    export WA_PAIR_AUDIT_SECRETS=$PWD/$shard_dir/$k.secrets
    export WA_PAIR_AUDIT_LOG=$PWD/$shard_dir/$k.error.log
    export WA_PAIR_AUDIT_CREDENTIALS=$PWD/$shard_dir/$k.credentials
    rm -f "$TEST_NGINX_SERVROOT/logs/error.log"   # a log left by a run outside make test is not this run's
    while file=$(next_file); do
        out=$out_dir/tap-$(basename "$file").txt
        start=$EPOCHREALTIME
        prove -v "$file" > "$out" 2>&1
        echo "$? $k $(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')" \
            > "$out.rc"
    done
    echo "$EPOCHREALTIME" > "$shard_dir/$k.end"   # the group's own end, for the suite's time
}

start_suite() {
    export TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
    export TEST_NGINX_LOAD_MODULES=${TEST_NGINX_LOAD_MODULES:-$PWD/$build/ngx_http_wa_pair_module.so}
    rm -rf "$shard_dir" && mkdir -p "$shard_dir"
    echo 0 > "$shard_dir/next"
    local k f
    for f in "${queue[@]}"; do rm -f "$out_dir/tap-$(basename "$f").txt.rc"; done
    for ((k = 1; k <= shards; k++)); do
        : > "$shard_dir/$k.secrets"; : > "$shard_dir/$k.error.log"; : > "$shard_dir/$k.credentials"
        run_shard "$k" &
        shard_pids+=($!)
    done
    suite_start=$EPOCHREALTIME
    section "Test::Nginx: ${#queue[@]} files started in $shards groups (results below)"
}

finish_suite() {
    local pid file out rc shard secs
    for pid in "${shard_pids[@]}"; do wait "$pid"; done
    # from the groups' start to the last group's end (not to now: the builds ran meanwhile)
    local suite_end
    suite_end=$(sort -g "$shard_dir"/*.end 2>/dev/null | tail -1)
    section "Test::Nginx: ${#queue[@]} files in $shards groups (ports $base_port-$((base_port + shards - 1))), $(awk -v a="$suite_start" -v b="${suite_end:-$EPOCHREALTIME}" 'BEGIN { printf "%.1f", b - a }') s"
    for file in "${suite_files[@]}"; do
        out=$out_dir/tap-$(basename "$file").txt
        read -r rc shard secs < "$out.rc" 2>/dev/null || { rc=255 shard=? secs=?; }
        echo "== $file ($secs s, group $shard)"
        grep -E '^(not ok|#   Failed)|^Result' "$out" | head -40
        count_tap "$out" "$file"
        if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' "$out"; then
            failed=$((failed + 1)); problems+=("$file: exit $rc"); tail -20 "$out"
        fi
    done
    cat "$shard_dir"/*.error.log > "$audit_log"
    cat "$shard_dir"/*.secrets > "$out_dir/audit-secrets.txt"
    cat "$shard_dir"/*.credentials > "$build/audit-credentials.txt"
}

# ---------------------------------------------------------------- builds and checks

if [ -z "$suite_only" ]; then
section "module"
make -s module || { echo "0 passed, 1 failed"; exit 1; }
start_suite
# the Debian package test needs only the module and its own ports (80, 2184): it runs beside
# the suite too, its output checked in its section below
tools/deb_test.sh > $build/deb-test.txt 2>&1 &
deb_pid=$!

section "unit (GoogleTest)"
mkdir -p $build/unit
if make -s -j"$(nproc)" $build/unit/wa_pair_unit; then
    /usr/bin/python3 t/unit/pyjwt_tokens.py > $build/unit/pyjwt_tokens.txt
    WA_PAIR_PYJWT_TOKENS=$build/unit/pyjwt_tokens.txt $build/unit/wa_pair_unit > $build/unit/out.txt 2>&1
    rc=$?
    grep -E '^\[  (PASSED|FAILED) +\]|^\[  FAILED  \]' $build/unit/out.txt
    count_gtest $build/unit/out.txt
    [ $rc -eq 0 ] || problems+=("unit: exit $rc")
else
    failed=$((failed + 1)); problems+=("unit: build failed")
fi

# a short run of every fuzz target (make fuzz runs them long)
section "fuzz (short run)"
tools/fuzz.sh --quick "${WA_PAIR_FUZZ_SECONDS:-3}" > $build/fuzz-short.txt 2>&1
rc=$?
sed -n '2,$p' $build/fuzz-short.txt | grep -v ' passed, .* failed$'
fp=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' $build/fuzz-short.txt)
ff=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' $build/fuzz-short.txt)
passed=$((passed + ${fp:-0})); failed=$((failed + ${ff:-0}))
if [ $rc -ne 0 ]; then problems+=("fuzz: exit $rc"); [ -z "$ff$fp" ] && failed=$((failed + 1)); fi

# the Debian package, installed into the system's nginx, then purged (as root on Debian; it
# prints why it skips elsewhere); its ok lines are in build/deb-test.txt
section "Debian package (make deb, tools/deb_test.sh)"
wait $deb_pid
rc=$?
grep -v -e '^ok - ' -e '^   build/deb/' -e '^[0-9]* passed, [0-9]* failed$' $build/deb-test.txt
dp=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' $build/deb-test.txt)
df=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' $build/deb-test.txt)
[ -n "$dp$df" ] && echo "   checks: ${dp:-0} ok, ${df:-0} failed"
passed=$((passed + ${dp:-0})); failed=$((failed + ${df:-0}))
if [ $rc -ne 0 ]; then problems+=("deb: exit $rc"); [ -z "$df$dp" ] && failed=$((failed + 1)); fi
else
start_suite
fi

finish_suite

# ---------------------------------------------------------------- the audit

section "audit of the suite's error logs ($(wc -l < "$audit_log") lines)"
WA_PAIR_AUDIT_SECRETS=$out_dir/audit-secrets.txt
WA_PAIR_AUDIT_CREDENTIALS=$build/audit-credentials.txt
audit() {  # name, grep -E pattern or fixed strings file
    if [ -s "$audit_log" ] && grep -a -q "$@" "$audit_log"; then
        failed=$((failed + 1)); problems+=("audit: $1 $2"); grep -a -m3 "$@" "$audit_log"
    else
        passed=$((passed + 1))
    fi
}
audit -E '\[alert\]'
audit -E '\[crit\].*wa_pair'
# every phone number the suite sends, normalised to digits (7+ digits)
grep -ohE '(phone(%22|"|\\")?[:=]\s*(%22|"|\\")?)[^"&\\]*' t/*.t \
    | sed -E 's/^phone(%22|"|\\")?[:=][[:space:]]*(%22|"|\\")?//; s/%2B//g; s/[^0-9]//g' \
    | awk 'length($0) >= 7' | sort -u > $out_dir/audit-phones.txt
if [ -s $out_dir/audit-phones.txt ]; then
    audit -F -w -f $out_dir/audit-phones.txt                 # a full phone number of the suite
fi
if [ -s "$WA_PAIR_AUDIT_SECRETS" ]; then
    audit -F -f "$WA_PAIR_AUDIT_SECRETS"                     # a JWT secret (or API key) of the suite
fi
# A token (a JWS: base64url JSON header "eyJ..", two dots) may appear only where nginx itself
# dumps request headers at debug level: its "http header:" and "http proxy header:" lines and
# the proxied request dump. That is nginx's behaviour, not the module's (README,
# Reliability): the module never logs a credential, at any level.
jwt='eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.'
nginx_dumps='(http header|http proxy header): "Authorization: |^Authorization: '
if [ -s "$audit_log" ] && grep -a -E "$jwt" "$audit_log" | grep -a -q -v -E "$nginx_dumps"; then
    failed=$((failed + 1)); problems+=("audit: a token outside nginx's own header dump")
    grep -a -E "$jwt" "$audit_log" | grep -a -v -E "$nginx_dumps" | head -3
else
    passed=$((passed + 1))
fi
echo "   tokens in nginx's own debug header dumps: $(grep -a -E "$jwt" "$audit_log" | grep -a -c -E "$nginx_dumps"); elsewhere: none allowed"
if [ -s "$WA_PAIR_AUDIT_CREDENTIALS" ]; then                 # an API key in a line of the module
    grep -a 'wa_pair' "$audit_log" > $build/audit-module-lines.txt
    audit_log=$build/audit-module-lines.txt audit -F -f "$WA_PAIR_AUDIT_CREDENTIALS"
fi

if [ ${#problems[@]} -gt 0 ]; then
    printf 'problem: %s\n' "${problems[@]}"
fi
section "done"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
