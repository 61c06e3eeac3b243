#!/usr/bin/env bash
# `make test`: the GoogleTest core suite, a short run of every fuzz target, the Debian
# package installed into the system's nginx and purged (tools/deb_test.sh, as root on Debian),
# every Test::Nginx file against the built module (the real Test::Nginx when installed, else
# the runner in t/lib), then an audit of the error logs of the whole suite. Ends with one
# "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."

build=build
out_dir=${WA_PAIR_TEST_OUT:-$build}   # TAP outputs and the collected error logs
mkdir -p "$out_dir"
audit_log=$out_dir/suite-error.log
passed=0
failed=0
problems=()

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

if [ -z "$suite_only" ]; then
make -s module || { echo "0 passed, 1 failed"; exit 1; }

echo "== unit (GoogleTest)"
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
echo "== fuzz (short run)"
tools/fuzz.sh "${WA_PAIR_FUZZ_SECONDS:-3}" > $build/fuzz-short.txt 2>&1
rc=$?
sed -n '2,$p' $build/fuzz-short.txt | grep -v ' passed, .* failed$'
fp=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' $build/fuzz-short.txt)
ff=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' $build/fuzz-short.txt)
passed=$((passed + ${fp:-0})); failed=$((failed + ${ff:-0}))
if [ $rc -ne 0 ]; then problems+=("fuzz: exit $rc"); [ -z "$ff$fp" ] && failed=$((failed + 1)); fi

# the Debian package, installed into the system's nginx, then purged (as root on Debian; it
# prints why it skips elsewhere); its ok lines are in build/deb-test.txt
echo "== Debian package (make deb, tools/deb_test.sh)"
tools/deb_test.sh > $build/deb-test.txt 2>&1
rc=$?
grep -v -e '^ok - ' -e '^   build/deb/' -e '^[0-9]* passed, [0-9]* failed$' $build/deb-test.txt
dp=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' $build/deb-test.txt)
df=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' $build/deb-test.txt)
[ -n "$dp$df" ] && echo "   checks: ${dp:-0} ok, ${df:-0} failed"
passed=$((passed + ${dp:-0})); failed=$((failed + ${df:-0}))
if [ $rc -ne 0 ]; then problems+=("deb: exit $rc"); [ -z "$df$dp" ] && failed=$((failed + 1)); fi
fi

export TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
export TEST_NGINX_LOAD_MODULES=${TEST_NGINX_LOAD_MODULES:-$PWD/$build/ngx_http_wa_pair_module.so}
export WA_PAIR_AUDIT_SECRETS=$PWD/$out_dir/audit-secrets.txt   # both filled by t/lib/WaPairTest.pm
export WA_PAIR_AUDIT_LOG=$PWD/$audit_log
export WA_PAIR_AUDIT_CREDENTIALS=$PWD/$build/audit-credentials.txt
: > "$audit_log"
: > "$WA_PAIR_AUDIT_SECRETS"
rm -f t/servroot/logs/error.log   # a log left by a run outside make test is not this run's
: > "$WA_PAIR_AUDIT_CREDENTIALS"
for file in t/*.t t/lib/selftest/*.t; do
    echo "== $file"
    out=$out_dir/tap-$(basename "$file").txt
    prove -v "$file" > "$out" 2>&1
    rc=$?
    grep -E '^(not ok|#   Failed)|^Result' "$out" | head -40
    count_tap "$out" "$file"
    if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$out"; then
        failed=$((failed + 1)); problems+=("$file: exit $rc"); tail -20 "$out"
    fi
done

echo "== audit of the suite's error logs ($(wc -l < "$audit_log") lines)"
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
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
