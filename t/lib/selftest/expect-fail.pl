# Helper of runner.t (not a test on its own: its blocks are meant to FAIL).
# runner.t runs it with the same Test::Nginx and checks the failures.
use strict; use warnings;
BEGIN { push @INC, 't/lib' }
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: wrong body
--- config
    location = /hello { add_header X-Foo bar; return 200 "hello"; }
--- request
GET /hello
--- response_body chomp
bye



=== TEST 2: timeout without abort
--- raw_request eval
"GET /hello HTTP/1.1\r\nHost: localhost\r\n"
--- timeout: 0.3



=== TEST 3: error_log line that never comes
--- request
GET /hello
--- error_log
no such line, ever



=== TEST 4: no_error_log line that comes
--- request
GET /hello?unique-4
--- no_error_log
http args: "unique-4"



=== TEST 5: wrong status, right header
--- request
GET /hello
--- error_code: 404
--- response_headers
X-Foo: bar
