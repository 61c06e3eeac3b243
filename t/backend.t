use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# Step 6 of the request flow (docs/protocol.md): the pairing backend's native protocol,
# POST /v1/pair-code over a Unix socket or TCP, and how each of its answers (or its silence)
# becomes the client's envelope:
#   200 + valid code          200, code as XXXX-XXXX, timeout from the answer or configured
#   200 unusable              502 "Invalid answer from the pairing backend"
#   409                       409 "Device is already logged in"
#   429                       429 "Too many pairing requests" + Retry-After (its own, else 30)
#   other 4xx                 400 with its short printable error, else a generic text
#   5xx                       500 "Failed to generate pairing code"
#   unreachable               503 "Pairing backend is unavailable"
#   too slow                  504 "Pairing backend did not answer in time"
#   garbage                   502 "Invalid answer from the pairing backend"
# The dev backend (tools/dev_backend.py) answers what the query string of its URI asks for
# (status=, error=, retry_after=, timeout=, pair_code=, delay=, garbage=).
#
# Every config gets, besides its own locations:
#   wa_pair_jwt_secret_file      at server level, so a block's locations need only
#                                wa_pair and wa_pair_backend
#   /healthy                     wa_pair in front of a healthy backend: after a fault the
#                                next pairing must still work
#   /recorder/                   the dev backend behind a proxy that logs each request it is
#                                sent to /backend-log
#   /backend-stats               the dev backend's request counter, reset before each block
# and a request carries a valid device token and Content-Type: application/json.

our $Helpers = <<'_EOC_';
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /healthy {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=HEA1THY2;
    }
    location /recorder/ {
        access_log logs/backend.log wa_backend;
        proxy_pass http://unix:$TEST_NGINX_BACKEND_SOCK:/;
    }
    location = /backend-log {
        alias logs/backend.log;
    }
    location = /backend-stats {
        proxy_pass http://unix:$TEST_NGINX_BACKEND_SOCK:/_stats;
    }
_EOC_

our $Healthy = '{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"HEA1-THY2","timeout":120}}';
our $BadAnswer = '{"status":false,"code":502,"message":"Bad gateway","error":"Invalid answer from the pairing backend"}';
our $Rejected = '{"status":false,"code":400,"message":"Bad request","error":"Pairing request was rejected by the backend"}';
our $Failed = '{"status":false,"code":500,"message":"Internal server error","error":"Failed to generate pairing code"}';
sub main::pair { "POST $_[0]\n{\"phone\":\"6281234567890\"}" }

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $block->config . $Helpers);
    $block->set_value(http_config => ($block->http_config // '')
        . "    log_format wa_backend escape=none '\$request_method \$request_uri \$content_type"
        . " \$http_x_device_id \$http_x_request_id \$request_body';\n");
    $block->set_value(init => 'WaPairTest::backend_reset();') unless defined $block->init;
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'))
        unless defined $block->raw_request;
    # nothing alarming may reach the error log, whatever the block proves
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the backend is sent the native protocol: POST, JSON body, X-Device-Id, X-Request-ID
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_SERVER_PORT/recorder/v1/pair-code;
    }
--- more_headers
X-Request-ID: trace-0001
--- request eval
[main::pair("/devices/me/login-code"), "GET /backend-log"]
--- response_body_like eval
['"status":true',
 qq{^POST /recorder/v1/pair-code application/json dev-42 trace-0001 \\{"device_id":"dev-42","phone":"6281234567890"\\}\n\$}]



=== TEST 2: without an incoming X-Request-ID the backend gets the id of the answer
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_SERVER_PORT/recorder/v1/pair-code;
    }
--- request eval
[main::pair("/devices/me/login-code"), "GET /backend-log"]
--- raw_response_headers_like eval
["\r\n(?i:X-Request-ID): [0-9a-f]{32}\r\n", ""]
--- response_body_like eval
['"status":true',
 qq{^POST /recorder/v1/pair-code application/json dev-42 [0-9a-f]{32} \\{"device_id":"dev-42","phone":"6281234567890"\\}\n\$}]



=== TEST 3: a unix: backend without a URI is called on /v1/pair-code
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK;
    }
--- request eval
[main::pair("/devices/me/login-code"), "GET /backend-stats"]
--- response_body_like eval
['"status":true', '^\{"requests":1,"by_path":\{"/v1/pair-code":1\}\}$']



=== TEST 4: the URI after the socket path is the one called, query string included
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/engine/pair-code?timeout=77;
    }
--- request eval
[main::pair("/devices/me/login-code"), "GET /backend-stats"]
--- response_body_like eval
['"timeout":77\}\}$', '^\{"requests":1,"by_path":\{"/engine/pair-code\?timeout=77":1\}\}$']



=== TEST 5: a TCP backend by IP address works
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/v1/pair-code?pair_code=TCP12345;
    }
--- request eval
main::pair("/devices/me/login-code")
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"TCP1-2345","timeout":120}}



=== TEST 6: a TCP backend named localhost works
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://localhost:$TEST_NGINX_BACKEND_PORT/v1/pair-code?pair_code=TCP12345;
    }
--- request eval
main::pair("/devices/me/login-code")
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"TCP1-2345","timeout":120}}



=== TEST 7: a code without a dash ("ABCD1234") is shown as ABCD-1234
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
    }
--- request eval
main::pair("/devices/me/login-code")
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}



=== TEST 8: a code with the dash ("ABCD-1234") is shown as is
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD-1234;
    }
--- request eval
main::pair("/devices/me/login-code")
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}



=== TEST 9: every symbol of WhatsApp's alphabet is accepted
--- config
    location = /a { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=12345678; }
    location = /b { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=9ABCDEFG; }
    location = /c { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=HJKLMNPQ; }
    location = /d { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=RSTVWXYZ; }
--- request eval
[main::pair("/a"), main::pair("/b"), main::pair("/c"), main::pair("/d")]
--- response_body_like eval
['"pair_code":"1234-5678"', '"pair_code":"9ABC-DEFG"', '"pair_code":"HJKL-MNPQ"', '"pair_code":"RSTV-WXYZ"']



=== TEST 10: a code outside the alphabet, of another length or shape is a 502
--- config
    location = /lower     { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=abcd1234; }
    location = /zero      { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD0234; }
    location = /letter-i  { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCI1234; }
    location = /letter-o  { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCO1234; }
    location = /letter-u  { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCU1234; }
    location = /seven     { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABC1234; }
    location = /nine      { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD12345; }
    location = /dash-at-2 { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=AB-CD1234; }
    location = /two-dash  { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD--1234; }
    location = /space     { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD%201234; }
    location = /badcode   { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=badcode; }
    location = /nocode    { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=nocode; }
--- request eval
[map { main::pair("/$_") } qw(lower zero letter-i letter-o letter-u seven nine dash-at-2 two-dash space badcode nocode), "/healthy"]
--- error_code eval
[(502) x 12, 200]
--- response_body eval
[($main::BadAnswer) x 12, $main::Healthy]



=== TEST 11: the backend's timeout is used when it is an integer of 1..86400 s, else a 502
--- config
    location = /t1     { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234&timeout=1; }
    location = /t86400 { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234&timeout=86400; }
    location = /t0     { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234&timeout=0; }
    location = /tneg   { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234&timeout=-1; }
    location = /tbig   { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234&timeout=86401; }
    location = /tfloat { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234&timeout=1.5; }
    location = /ttext  { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234&timeout=soon; }
--- request eval
[map { main::pair("/$_") } qw(t1 t86400 t0 tneg tbig tfloat ttext)]
--- error_code eval
[200, 200, (502) x 5]
--- response_body eval
['{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":1}}',
 '{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":86400}}',
 ($main::BadAnswer) x 5]



=== TEST 12: a 200 that is not JSON is a 502, and the next pairing works
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=notjson;
    }
--- request eval
[main::pair("/devices/me/login-code"), main::pair("/healthy")]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Healthy]



=== TEST 13: an answer over the size cap (10 MB) is a 502, and the next pairing works
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=huge;
    }
--- request eval
[main::pair("/devices/me/login-code"), main::pair("/healthy")]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Healthy]



=== TEST 14: an answer that is not HTTP is a 502, and the next pairing works
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=http;
    }
--- request eval
[main::pair("/devices/me/login-code"), main::pair("/healthy")]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Healthy]



=== TEST 15: a backend that closes without answering is a 502, and the next pairing works
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=close;
    }
--- request eval
[main::pair("/devices/me/login-code"), main::pair("/healthy")]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Healthy]



=== TEST 16: a broken chunked answer is a 502, and the next pairing works
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=chunked-bad;
    }
--- request eval
[main::pair("/devices/me/login-code"), main::pair("/healthy")]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Healthy]



=== TEST 17: statuses other than 200, 4xx and 5xx are a 502
--- config
    location = /s201 { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=201; }
    location = /s204 { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=204; }
    location = /s302 { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=302; }
--- request eval
[main::pair("/s201"), main::pair("/s204"), main::pair("/s302"), main::pair("/healthy")]
--- error_code eval
[502, 502, 502, 200]
--- response_body eval
[($main::BadAnswer) x 3, $main::Healthy]



=== TEST 18: a backend 409 is "Device is already logged in"
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=409&error=session%20exists%20in%20store;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 409
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body chomp
{"status":false,"code":409,"message":"Conflict","error":"Device is already logged in"}



=== TEST 19: a backend 429 is a 429 with the backend's Retry-After
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=429&retry_after=7&error=slow%20down;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 429
--- response_headers
Retry-After: 7
Content-Type: application/json
Cache-Control: no-store
--- response_body chomp
{"status":false,"code":429,"message":"Too many requests","error":"Too many pairing requests"}



=== TEST 20: a 429 without a usable Retry-After (none, not delta-seconds, over a day) says 30
--- config
    location = /none  { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=429&retry_after=none; }
    location = /text  { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=429&retry_after=soon; }
    location = /date  { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=429&retry_after=Wed,%2021%20Oct%202015%2007:28:00%20GMT; }
    location = /neg   { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=429&retry_after=-5; }
    location = /big   { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=429&retry_after=86401; }
--- request eval
[map { main::pair("/$_") } qw(none text date neg big)]
--- error_code eval
[(429) x 5]
--- response_headers eval
[("Retry-After: 30") x 5]
--- response_body eval
[('{"status":false,"code":429,"message":"Too many requests","error":"Too many pairing requests"}') x 5]



=== TEST 21: a Retry-After of 0 and of a whole day are passed on
--- config
    location = /zero { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=429&retry_after=0; }
    location = /day  { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=429&retry_after=86400; }
--- request eval
[main::pair("/zero"), main::pair("/day")]
--- error_code eval
[429, 429]
--- response_headers eval
["Retry-After: 0", "Retry-After: 86400"]
--- response_body_like eval
['"code":429', '"code":429']



=== TEST 22: a backend 400 "Bad request" gives the doc's second 400 example, byte for byte
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=400&error=Bad%20request;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 400
--- response_body chomp
{"status":false,"code":400,"message":"Bad request","error":"Bad request"}



=== TEST 23: another 4xx passes its short printable error text on as a 400
--- config
    location = /s403 { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=403&error=Phone%20number%20is%20banned; }
    location = /s404 { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=404&error=Device%20not%20found; }
    location = /s422 { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=422&error=Say%20%22hi%22%20%5C%20bye; }
--- request eval
[main::pair("/s403"), main::pair("/s404"), main::pair("/s422")]
--- error_code eval
[400, 400, 400]
--- response_body eval
['{"status":false,"code":400,"message":"Bad request","error":"Phone number is banned"}',
 '{"status":false,"code":400,"message":"Bad request","error":"Device not found"}',
 '{"status":false,"code":400,"message":"Bad request","error":"Say \"hi\" \\\\ bye"}']



=== TEST 24: a 4xx error text of 200 bytes is passed on, 201 bytes is replaced
--- config eval
"    location = /b200 { wa_pair; wa_pair_backend http://unix:\$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=400&error=" . ("e" x 200) . "; }\n"
. "    location = /b201 { wa_pair; wa_pair_backend http://unix:\$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=400&error=" . ("e" x 201) . "; }\n"
--- request eval
[main::pair("/b200"), main::pair("/b201")]
--- error_code eval
[400, 400]
--- response_body eval
['{"status":false,"code":400,"message":"Bad request","error":"' . ("e" x 200) . '"}', $main::Rejected]



=== TEST 25: a 4xx error text with control or non-ASCII characters is replaced
--- config
    location = /tab     { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=400&error=bad%09text; }
    location = /ctl     { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=400&error=bad%01text; }
    location = /del     { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=400&error=bad%7Ftext; }
    location = /utf8    { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=400&error=n%C3%BAmero%20inv%C3%A1lido; }
--- request eval
[map { main::pair("/$_") } qw(tab ctl del utf8)]
--- error_code eval
[(400) x 4]
--- response_body eval
[($main::Rejected) x 4]



=== TEST 26: a 4xx without a JSON error text gets the generic text
--- config
    location = /html    { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=400&garbage=notjson; }
    location = /noerror { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=404&garbage=nocode; }
--- request eval
[main::pair("/html"), main::pair("/noerror")]
--- error_code eval
[400, 400]
--- response_body eval
[($main::Rejected) x 2]



=== TEST 27: a backend 500 is "Failed to generate pairing code" (the doc's 500 example)
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=500&error=panic:%20runtime%20error%20at%20main.go:42;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 500
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body chomp
{"status":false,"code":500,"message":"Internal server error","error":"Failed to generate pairing code"}



=== TEST 28: every 5xx, with or without a JSON body, is the same 500
--- config
    location = /s502 { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=502; }
    location = /s503 { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=503&retry_after=9; }
    location = /s599 { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=599; }
    location = /html { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=500&garbage=notjson; }
--- request eval
[map { main::pair("/$_") } qw(s502 s503 s599 html)]
--- error_code eval
[(500) x 4]
--- response_body eval
[($main::Failed) x 4]



=== TEST 29: a socket path nobody listens on is a 503, and the next pairing works
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_NO_BACKEND_SOCK:/v1/pair-code;
    }
--- request eval
[main::pair("/devices/me/login-code"), main::pair("/healthy")]
--- error_code eval
[503, 200]
--- response_body eval
['{"status":false,"code":503,"message":"Service unavailable","error":"Pairing backend is unavailable"}', $main::Healthy]



=== TEST 30: a socket path that is a plain file is a 503
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_JWT_SECRET_FILE_EMPTY:/v1/pair-code;
    }
--- request eval
[main::pair("/devices/me/login-code"), main::pair("/healthy")]
--- error_code eval
[503, 200]
--- response_body eval
['{"status":false,"code":503,"message":"Service unavailable","error":"Pairing backend is unavailable"}', $main::Healthy]



=== TEST 31: a TCP port that refuses connections is a 503
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://127.0.0.1:1/v1/pair-code;
    }
--- request eval
[main::pair("/devices/me/login-code"), main::pair("/healthy")]
--- error_code eval
[503, 200]
--- response_body eval
['{"status":false,"code":503,"message":"Service unavailable","error":"Pairing backend is unavailable"}', $main::Healthy]



=== TEST 32: a backend slower than wa_pair_backend_timeout is a 504, and the next pairing works
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?delay=3;
        wa_pair_backend_timeout 500ms;
    }
--- request eval
[main::pair("/devices/me/login-code"), main::pair("/healthy")]
--- timeout: 2
--- error_code eval
[504, 200]
--- response_body eval
['{"status":false,"code":504,"message":"Gateway timeout","error":"Pairing backend did not answer in time"}', $main::Healthy]



=== TEST 33: wa_pair_backend_timeout bounds the whole answer: one that trickles is cut off
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=trickle;
        wa_pair_backend_timeout 1s;
    }
--- request eval
[main::pair("/devices/me/login-code"), main::pair("/healthy")]
--- timeout: 3
--- error_code eval
[504, 200]
--- response_body eval
['{"status":false,"code":504,"message":"Gateway timeout","error":"Pairing backend did not answer in time"}', $main::Healthy]



=== TEST 34: a backend that answers within wa_pair_backend_timeout is waited for
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?delay=0.3&pair_code=WA1T1234;
        wa_pair_backend_timeout 5s;
    }
--- request eval
main::pair("/devices/me/login-code")
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"WA1T-1234","timeout":120}}



=== TEST 35: a backend failure is logged for the operator, with the phone masked
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=500;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 500
--- error_log
62812****890
--- no_error_log
6281234567890
--- response_body eval
$main::Failed
