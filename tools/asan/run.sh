#!/usr/bin/env bash
# `make asan`: the whole Test::Nginx suite (and its log audit) against the module built with
# AddressSanitizer + UndefinedBehaviorSanitizer (build/asan/), loaded into the stock nginx
# through tools/asan/nginx, then a verdict on every report the processes wrote.
#
# The verdict:
#  - any ASan or UBSan error report fails the run, whoever it names: only our module is
#    instrumented, so such a report is either ours or our module's misuse of nginx or a library;
#  - LeakSanitizer runs when each nginx process exits. The stock nginx frees its cycle pool at
#    exit but not what it takes with ngx_alloc()/ngx_memalign() for the life of a process: the
#    per-worker arrays of ngx_event_process_init() (connections, read and write events) and
#    the start-up pool of main() in `nginx -t`. Those records come from nginx alone: every
#    frame of their stack is in /usr/sbin/nginx (or libc's start-up).
#    They are counted and shown as "nginx's own", not failed. So is the OpenSSL state that
#    nginx's own TLS code (a frame ngx_ssl_* of /usr/sbin/nginx, no frame of our module) made
#    for an upstream connection and still holds at exit: stock proxy_ssl leaves the same
#    records (measured: a proxy_pass copy of t/tls.t under this runtime). Any other leak with
#    a frame in our module, OpenSSL or libstdc++ fails the run. tools/asan/lsan.supp would
#    hold named library noise; it holds none today.
set -uo pipefail
cd "$(dirname "$0")/../.."

out=build/asan
reports=$out/reports
rm -rf "$reports" && mkdir -p "$reports"

export WA_PAIR_ASAN_DIR=$PWD/$reports
export TEST_NGINX_BINARY=$PWD/tools/asan/nginx
export TEST_NGINX_LOAD_MODULES=$PWD/$out/ngx_http_wa_pair_module.so
export WA_PAIR_TEST_OUT=$out
export WA_PAIR_SUITE_ONLY=1

echo "== make asan: the suite against $TEST_NGINX_LOAD_MODULES (ASan+UBSan, stock nginx)"
tools/test.sh | tee $out/suite.txt
suite_rc=${PIPESTATUS[0]}

# One record per report: a blank line separates the leak records of a file.
classify() {
    awk -v ours=0 -v nginx=0 -v errors=0 -v tls=0 '
        function flush() {
            if (rec == "") return
            if (rec ~ /LeakSanitizer: detected memory leaks/) { rec = ""; return }
            if (rec ~ /(Direct|Indirect) leak of/) {
                foreign = 0
                n = split(rec, lines, "\n")
                for (i = 1; i <= n; i++) {
                    if (lines[i] !~ /^ *#[0-9]+ /) continue
                    if (lines[i] ~ /libsanitizer|asan_|__interceptor_|\/usr\/sbin\/nginx\+|__libc_start|_start \(|libc\.so/) continue
                    foreign = 1
                }
                # OpenSSL state that nginx own TLS code (ngx_ssl_*) made for an upstream
                # connection and still holds when the process exits: stock proxy_ssl leaves
                # the same records; a frame of our module never appears in them.
                if (foreign && rec !~ /ngx_http_wa_pair_module/ && rec ~ / in ngx_ssl_[a-z_]+ \(\/usr\/sbin\/nginx\+/) { tls++; foreign = 0 }
                if (foreign) { ours++; print "OURS\n" rec > "/dev/stderr" } else nginx++
            } else if (rec ~ /ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer: [^d]|UndefinedBehaviorSanitizer/) {
                errors++; print "ERROR\n" rec > "/dev/stderr"
            }
            rec = ""
        }
        /^$/ { flush(); next }
        /^SUMMARY: AddressSanitizer: [0-9]+ byte\(s\) leaked/ { flush(); next }
        { rec = rec $0 "\n" }
        END { flush(); print errors, ours, nginx - tls, tls }
    ' "$@"
}

files=("$reports"/asan.*)
if [ -e "${files[0]}" ]; then
    read -r errors ours nginx tls < <(classify "${files[@]}" 2> $out/findings.txt)
else
    errors=0 ours=0 nginx=0 tls=0
fi
echo "== reports: ${#files[@]} file(s) in $reports"
[ -e "${files[0]}" ] || echo "   (none)"
echo "   sanitizer errors (ASan/UBSan): $errors"
echo "   leaks naming our module or a library: $ours"
echo "   leaks of nginx's own per-process arrays (not ours, not failed): $nginx"
echo "   OpenSSL state of nginx's own upstream TLS code at exit, as proxy_ssl leaves (not ours, not failed): $tls"
if [ "$errors" -gt 0 ] || [ "$ours" -gt 0 ]; then
    head -60 $out/findings.txt
    echo "make asan: FAILED (reports above; all in $out/findings.txt)"
    exit 1
fi
[ "$suite_rc" -eq 0 ] || { echo "make asan: FAILED (the suite failed under ASan)"; exit 1; }
echo "make asan: OK — zero reports from our code"
