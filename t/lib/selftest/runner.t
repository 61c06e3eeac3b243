# Self-test of the compat Test::Nginx runner in t/lib, runnable under BOTH
# runners with the same expected results:
#   prove t/lib/selftest/runner.t                    # compat runner (t/lib)
#   prove -I/path/to/test-nginx/lib t/lib/selftest/runner.t   # real one
# Uses only the stock nginx (TEST_NGINX_BINARY, default: nginx on PATH).
# Blocks after TEST 1 have no --- config on purpose: they reuse TEST 1's
# nginx (both runners keep it running), which keeps the file fast.
# The last part runs expect-fail.pl (same runner) and checks its failures.
use strict; use warnings;
BEGIN { push @INC, 't/lib' }
BEGIN { $ENV{TEST_NGINX_SELFTEST_GREETING} = 'hi-from-env' }
use Test::Nginx::Socket;
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Socket::INET;

repeat_each(2);
no_shuffle();
plan tests => repeat_each() * 43 + 8;

run_tests();

# ---- failures must be reported (and the plan kept) like the real one ----
my $lib = dirname(dirname(dirname($INC{'Test/Nginx/Socket.pm'})));
my $probe = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1);
my $port = $probe->sockport;
close $probe;
my $root = tempdir(CLEANUP => 1);
my $out = do {
    local $ENV{TEST_NGINX_SERVROOT} = "$root/servroot";
    local $ENV{TEST_NGINX_PORT} = $port;
    local $ENV{TEST_NGINX_SERVER_PORT} = $port;
    my $script = dirname(__FILE__) . '/expect-fail.pl';
    `$^X -I$lib $script 2>&1`;
};
my @not_ok = $out =~ /^(not ok \d+ .*)$/mg;
is(scalar @not_ok, 6, "expect-fail.pl: 6 failures") or diag $out;
like($out, qr/^not ok \d+ - \S+ TEST 1: wrong body - response_body - response is expected/m,
     'wrong body reported');
like($out, qr/^not ok \d+ - ERROR: client socket timed out - \S+ TEST 2: timeout without abort/m,
     'timeout reported');
like($out, qr/^not ok \d+ - \S+ TEST 2: timeout without abort - status code ok/m,
     'empty status after timeout reported');
like($out, qr/^not ok \d+ - \S+ TEST 3: .* - pattern "no such line, ever" should match a line in error\.log/m,
     'missing error_log line reported');
like($out, qr/^not ok \d+ - \S+ TEST 4: .* - pattern "http args: \S{1,3}unique-4\S{1,3}" should not match any line/m,
     'unexpected error_log line reported');
like($out, qr/^not ok \d+ - \S+ TEST 5: .* - status code ok/m, 'wrong status reported');
like($out, qr/^ok \d+ - \S+ TEST 5: .* - header X-Foo ok/m, 'passing checks still pass');

__DATA__

=== TEST 1: return 200, env expansion, user_files
--- main_config
env SELFTEST_GREETING=$TEST_NGINX_SELFTEST_GREETING;
--- http_config
map $uri $selftest_greeting { default "$TEST_NGINX_SELFTEST_GREETING"; }
--- config
    location = /hello { return 200 "hello"; }
    location = /greet { return 200 "$selftest_greeting port=$TEST_NGINX_SERVER_PORT"; }
    location = /hdr {
        add_header X-Foo bar;
        add_header X-Multi a;
        add_header X-Multi b;
        return 200 "h\n";
    }
    location = /echo {
        return 200 "len=$http_content_length x=$http_x_test host=$host conn=$http_connection";
    }
    location /dir/ {
        root $TEST_NGINX_SERVER_ROOT/html;
        autoindex on;
    }
--- user_files
>>> dir/page.html
Hello World
--- request
GET /hello
--- response_body chomp
hello



=== TEST 2: expansion in config and expected body
--- request
GET /greet
--- response_body chomp
hi-from-env port=$TEST_NGINX_SERVER_PORT



=== TEST 3: response_headers, absent header, repeated header
--- request
GET /hdr
--- response_headers
X-Foo: bar
X-Multi: a, b
!X-Bar
--- response_body
h



=== TEST 4: response_headers_like, raw_response_headers_like/unlike
--- request
GET /hdr
--- response_headers_like
X-Foo: b.r
--- raw_response_headers_like: ^HTTP/1\.1 200 OK\r\n
--- raw_response_headers_unlike: Transfer-Encoding



=== TEST 5: body gets Content-Length, more_headers
--- request
POST /echo
hello
--- more_headers
X-Test: abc
--- response_body chomp
len=5 x=abc host=localhost conn=close



=== TEST 6: several requests, indexed expectations
--- request eval
["GET /hello", "GET /nope.html"]
--- error_code eval
[200, 404]
--- response_body_like eval
["^hello\$", "404 Not Found"]
--- no_error_log
[crit]



=== TEST 7: 404 and error_log with strings and regexps
--- request
GET /nofile.html
--- error_code: 404
--- response_body_like: 404 Not Found
--- error_log eval
[qr/\[error\] .*open\(\) ".*nofile\.html" failed/, "No such file or directory"]



=== TEST 8: chunked response (autoindex) is decoded
--- request
GET /dir/
--- raw_response_headers_like: Transfer-Encoding: chunked
--- response_body_like: ^<html>.*<a href="page\.html">page\.html</a>.*</html>\r?\n$



=== TEST 9: raw_request, exact bytes
--- raw_request eval
"GET /hello HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_headers
!Transfer-Encoding
--- response_body chomp
hello



=== TEST 10: raw_request as packets
--- raw_request eval
["GET /hel", "lo HTTP/1.0\r\n\r\n"]
--- raw_request_middle_delay: 0.05
--- response_body chomp
hello



=== TEST 11: pipelined requests
--- pipelined_requests eval
["GET /hello", "GET /greet"]
--- response_body eval
["hello", 'hi-from-env port=$ServerPort']



=== TEST 12: init runs after start, before the request
--- init
open my $fh, '>', html_dir() . "/from-init.txt" or die "open: $!";
print $fh "init ran\n";
close $fh;
--- request
GET /from-init.txt
--- response_body
init ran



=== TEST 13: timeout with abort does not fail
--- raw_request eval
"GET /hello HTTP/1.1\r\nHost: localhost\r\n"
--- timeout: 0.3
--- abort
--- ignore_response
--- wait: 0.1
--- error_log
client prematurely closed connection



=== TEST 14: must_die with an invalid directive
--- config
    bogus_selftest_directive on;
--- must_die
--- suppress_stderr
--- error_log
[emerg]
unknown directive "bogus_selftest_directive"



=== TEST 15: SKIP is honoured
--- SKIP
--- config
    this block would fail;
--- request
GET /t
