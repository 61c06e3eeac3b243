#!/usr/bin/env bash
# `make valgrind`: the whole Test::Nginx suite with nginx under valgrind memcheck
# (TEST_NGINX_USE_VALGRIND, supported by the real Test::Nginx and by the runner in t/lib:
# nginx in the foreground, master off, one valgrind per nginx start), then a verdict: every
# valgrind report (one file per process, build/valgrind/reports/vg.<pid>) fails the run.
# tools/valgrind.supp holds the only suppressions: named nginx noise, each explained.
# Every block runs, the sub-second deadlines of t/abort.t and t/nonblocking.t included (they
# hold under valgrind on this machine; should one not, skip it there with its reason).
set -uo pipefail
cd "$(dirname "$0")/.."

out=build/valgrind
reports=$out/reports
rm -rf "$reports" && mkdir -p "$reports"
command -v valgrind > /dev/null || { echo "valgrind: not installed (tools/deps.sh)"; exit 1; }

export TEST_NGINX_USE_VALGRIND="--tool=memcheck --leak-check=full --show-leak-kinds=definite \
--errors-for-leak-kinds=definite --num-callers=50 --suppressions=$PWD/tools/valgrind.supp \
--gen-suppressions=all --log-file=$PWD/$reports/vg.%p"
export TEST_NGINX_BINARY=/usr/sbin/nginx
export TEST_NGINX_LOAD_MODULES=$PWD/build/ngx_http_wa_pair_module.so
export WA_PAIR_TEST_OUT=$out
export WA_PAIR_SUITE_ONLY=1

echo "== make valgrind: the suite with nginx under valgrind memcheck"
tools/test.sh | tee $out/suite.txt
suite_rc=${PIPESTATUS[0]}

starts=$(ls "$reports" | wc -l)
mapfile -t dirty < <(find "$reports" -name 'vg.*' -size +0 | sort)
errors=$(cat "$reports"/vg.* 2>/dev/null | grep -cE '^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and destination|Argument|.* are definitely lost)')
echo "== reports: $starts valgrind'd nginx processes, ${#dirty[@]} with a report, $errors error(s)"
if [ ${#dirty[@]} -gt 0 ]; then
    for f in "${dirty[@]:0:3}"; do echo "--- $f"; head -40 "$f"; done
    echo "make valgrind: FAILED (reports in $reports)"
    exit 1
fi
[ "$suite_rc" -eq 0 ] || { echo "make valgrind: FAILED (the suite failed under valgrind)"; exit 1; }
echo "make valgrind: OK — zero reports"
