use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# The envelope (README.md, "What a client gets"): every answer of a wa_pair location, success or error,
# including the errors nginx itself would render as HTML (413, 408), is compact JSON with the
# keys status, code, message, then data or error; with Content-Type: application/json,
# Cache-Control: no-store, X-Content-Type-Options: nosniff and an X-Request-ID.
#
# Unless a block says otherwise: the config is the doc's location in front of the dev
# backend, and a request carries a valid device token and Content-Type: application/json.

our $LoginCode = <<'_EOC_';
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $LoginCode) unless defined $block->config;
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'))
        unless defined $block->raw_request;
    # nothing alarming may reach the error log, whatever the block proves
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the doc's request gets the doc's 200 envelope, byte for byte
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD-1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}



=== TEST 2: a fresh code is shown as XXXX-XXXX in WhatsApp's alphabet (no 0, I, O, U)
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like chomp
^\{"status":true,"code":200,"message":"Pairing code generated successfully","data":\{"pair_code":"[1-9A-HJ-NP-TV-Z]{4}-[1-9A-HJ-NP-TV-Z]{4}","timeout":120\}\}$



=== TEST 3: an error answer is an envelope with the same headers
--- request
POST /devices/me/login-code
{}
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- raw_response_headers_like: \r\nX-Request-ID: [0-9a-f]{32}\r\n
--- response_body chomp
{"status":false,"code":400,"message":"Bad request","error":"Phone number is required"}



=== TEST 4: a sane X-Request-ID is echoed on a success
--- more_headers
X-Request-ID: req-42.A_b:c
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_headers
X-Request-ID: req-42.A_b:c
Cache-Control: no-store
--- response_body_like: "status":true



=== TEST 5: a sane X-Request-ID is echoed on an error too
--- more_headers
X-Request-ID: 0123456789abcdef
--- request
POST /devices/me/login-code
{"phone":"0812"}
--- error_code: 400
--- response_headers
X-Request-ID: 0123456789abcdef
--- response_body_like: "status":false



=== TEST 6: an X-Request-ID of 128 characters is still echoed
--- more_headers eval
"X-Request-ID: " . ("a1-" x 42) . "zz"
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_headers eval
"X-Request-ID: " . ("a1-" x 42) . "zz"
--- response_body_like: "status":true



=== TEST 7: an X-Request-ID of 129 characters is replaced by nginx's $request_id
--- more_headers eval
"X-Request-ID: " . ("a" x 129)
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- raw_response_headers_like: \r\nX-Request-ID: [0-9a-f]{32}\r\n
--- response_body_like: "status":true



=== TEST 8: an X-Request-ID with characters outside [A-Za-z0-9._:-] is replaced
--- more_headers eval
["X-Request-ID: abc def", "X-Request-ID: abc/def", "X-Request-ID: a\"b", "X-Request-ID: r\xc3\xa9q", "X-Request-ID: <x>"]
--- request eval
[("POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}") x 5]
--- raw_response_headers_like eval
[("\r\nX-Request-ID: [0-9a-f]{32}\r\n") x 5]
--- response_body_like eval
[('"status":true') x 5]



=== TEST 9: without X-Request-ID the answer carries nginx's $request_id
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- raw_response_headers_like: \r\nX-Request-ID: [0-9a-f]{32}\r\n
--- response_body_like: "status":true



=== TEST 10: an empty X-Request-ID is replaced
--- more_headers
X-Request-ID:
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- raw_response_headers_like: \r\nX-Request-ID: [0-9a-f]{32}\r\n
--- response_body_like: "status":true



=== TEST 11: a Content-Length over client_max_body_size gets a JSON 413, not nginx's HTML page
--- config
    location = /devices/me/login-code {
        client_max_body_size 64;
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- request eval
"POST /devices/me/login-code\n" . '{"phone":"6281234567890","note":"' . ("x" x 100) . '"}'
--- error_code: 413
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body chomp
{"status":false,"code":413,"message":"Payload too large","error":"Request body is too large"}



=== TEST 12: a body over client_body_buffer_size is refused the same way (never written to disk)
--- config
    location = /devices/me/login-code {
        client_max_body_size 1m;
        client_body_buffer_size 64;
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- request eval
"POST /devices/me/login-code\n" . '{"phone":"6281234567890","note":"' . ("x" x 100) . '"}'
--- error_code: 413
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body chomp
{"status":false,"code":413,"message":"Payload too large","error":"Request body is too large"}



=== TEST 13: a chunked body that grows over the limit gets a JSON 413
--- config
    location = /devices/me/login-code {
        client_max_body_size 64;
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- raw_request eval
WaPairTest::raw_post('/devices/me/login-code',
    headers => [WaPairTest::auth_header(), 'Content-Type: application/json'],
    chunks  => ['{"phone":"6281234567890",', '"note":"' . ("x" x 40), ("x" x 40) . '"}'])
--- error_code: 413
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body chomp
{"status":false,"code":413,"message":"Payload too large","error":"Request body is too large"}



=== TEST 14: a chunked body within the limit is read whole
--- config
    location = /devices/me/login-code {
        client_max_body_size 64;
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- raw_request eval
WaPairTest::raw_post('/devices/me/login-code',
    headers => [WaPairTest::auth_header(), 'Content-Type: application/json'],
    chunks  => ['{"pho', 'ne":"62812', '34567890"}'])
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}



=== TEST 15: a body that stops arriving is dropped after client_body_timeout, as nginx does everywhere
nginx closes the connection without an answer when client_body_timeout fires (it never
renders a 408 page: the request is only finalized with 408, which the debug log shows); the
module keeps that behaviour and logs nothing above info.
--- config
    location = /devices/me/login-code {
        client_body_timeout 300ms;
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- raw_request eval
WaPairTest::raw_post('/devices/me/login-code',
    headers => [WaPairTest::auth_header(), 'Content-Type: application/json', 'Content-Length: 100'],
    body    => '{"phone":')
--- ignore_response
--- error_log
http finalize request: 408
--- no_error_log
[error]
[alert]
[crit]



=== TEST 16: the code stays valid for 120 s by default when the backend does not say
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234&timeout=none;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}



=== TEST 17: wa_pair_code_timeout is the validity when the backend does not say
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234&timeout=none;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_code_timeout 300;
    }
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":300}}



=== TEST 18: wa_pair_code_timeout takes nginx's time units
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234&timeout=none;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_code_timeout 3m;
    }
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":180}}



=== TEST 19: a timeout of null from the backend also means the configured one
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234&timeout=null;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_code_timeout 90;
    }
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":90}}



=== TEST 20: the backend's own timeout wins over wa_pair_code_timeout
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234&timeout=60;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_code_timeout 300;
    }
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":60}}



=== TEST 21: a body that arrives in several packets is read whole
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- raw_request eval
my $r = WaPairTest::raw_post('/devices/me/login-code',
    headers => [WaPairTest::auth_header(), 'Content-Type: application/json'],
    body    => '{"phone":"6281234567890"}');
my $at = index($r, "\r\n\r\n") + 4;
[substr($r, 0, $at), substr($r, $at, 10), substr($r, $at + 10)]
--- raw_request_middle_delay: 0.1
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}



=== TEST 22: X-Content-Type-Options: nosniff on every status: the module's answers, the engine's mapped, nginx's own pages
--- config
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /p      { wa_pair; client_max_body_size 10; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code; }
    location = /s409   { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=409; }
    location = /s429   { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=429; }
    location = /s500   { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=500; }
    location = /s400   { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=422&error=short; }
    location = /bad    { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=notjson; }
    location = /down   { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_NO_BACKEND_SOCK; }
    location = /slow   { wa_pair; wa_pair_backend_timeout 200ms; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?delay=1; }
    location = /ok     { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code; }
--- more_headers eval
["", "!Authorization", "Content-Type: text/plain", "", "", "", "", "", "", "", "", "", ""]
--- request eval
["POST /ok\n{\"phone\":\"6281234567890\"}", "POST /ok\n{}", "POST /ok\n{}", "GET /ok", "POST /ok\n{}",
 "POST /p\n{\"phone\":\"6281234567890\"}", "POST /s409\n{\"phone\":\"6281234567890\"}",
 "POST /s429\n{\"phone\":\"6281234567890\"}", "POST /s500\n{\"phone\":\"6281234567890\"}",
 "POST /s400\n{\"phone\":\"6281234567890\"}", "POST /bad\n{\"phone\":\"6281234567890\"}",
 "POST /down\n{\"phone\":\"6281234567890\"}", "POST /slow\n{\"phone\":\"6281234567890\"}"]
--- error_code eval
[200, 401, 415, 405, 400, 413, 409, 429, 500, 400, 502, 503, 504]
--- response_headers eval
[("X-Content-Type-Options: nosniff\nContent-Type: application/json\nCache-Control: no-store") x 13]
