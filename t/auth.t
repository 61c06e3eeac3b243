use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# Step 2 of the request flow (docs/architecture.md §1, docs/contract.md): the Authorization header gives the
# device id. "Bearer <token>" (any case) and a bare "<token>" (the doc's curl) are accepted;
# the token is a JWT verified with the secret of wa_pair_jwt_secret_file (HS256/384/512 only,
# exp/nbf with wa_pair_jwt_leeway); the device is the device_id claim (or
# wa_pair_jwt_device_claim), else sub. Failures are 401 before the body is read:
#   no, empty or non-JWT credential  "Invalid or missing authentication"
#   a JWT (two dots) failing anything "Invalid or expired JWT token"
# with WWW-Authenticate: Bearer (nothing presented) or Bearer error="invalid_token".
#
# The tokens are minted by Crypt::JWT (t/lib/WaPairTest.pm), not by the module's code.
# Unless a block says otherwise: the config is the doc's location in front of the dev backend
# (answering the doc's code ABCD-1234), and a request carries Content-Type: application/json;
# the Authorization header is each block's own. Every config also has:
#   /recorder/       the dev backend behind a proxy that logs "<X-Device-Id> <body>" of each
#                    request it is sent to /backend-log (use it as wa_pair_backend
#                    http://127.0.0.1:$TEST_NGINX_SERVER_PORT/recorder/v1/pair-code)
#   /backend-stats   the dev backend's request counter, reset before each block

our $LoginCode = <<'_EOC_';
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
_EOC_

our $Helpers = <<'_EOC_';
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

our $Ok = '{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}';
our $Missing = '{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or missing authentication"}';
our $BadJwt = '{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"}';

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => ($block->config // $LoginCode) . $Helpers);
    $block->set_value(http_config => ($block->http_config // '')
        . "    log_format wa_backend escape=none '\$http_x_device_id \$request_body';\n");
    $block->set_value(init => 'WaPairTest::backend_reset();') unless defined $block->init;
    $block->set_value(more_headers => with_headers($block->more_headers,
                          'Content-Type: application/json'))
        unless defined $block->raw_request;
    # nothing alarming may reach the error log, whatever the block proves
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

log_level('debug');
no_shuffle();
run_tests();

__DATA__

=== TEST 1: the doc's curl works: "Authorization: <token>" without a scheme
--- more_headers eval
"Authorization: " . WaPairTest::token()
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_headers
!WWW-Authenticate
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}



=== TEST 2: "Authorization: Bearer <token>" works
--- more_headers eval
"Authorization: Bearer " . WaPairTest::token()
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_headers
!WWW-Authenticate
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}



=== TEST 3: the Bearer scheme is case-insensitive
--- more_headers eval
["Authorization: bearer " . WaPairTest::token(),
 "Authorization: BEARER " . WaPairTest::token(),
 "Authorization: bEaReR " . WaPairTest::token()]
--- request eval
[("POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}") x 3]
--- response_body eval
[($main::Ok) x 3]



=== TEST 4: HS384 and HS512 tokens verify as well as HS256
--- more_headers eval
["Authorization: Bearer " . WaPairTest::token(alg => 'HS384'),
 "Authorization: Bearer " . WaPairTest::token(alg => 'HS512')]
--- request eval
[("POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}") x 2]
--- response_body eval
[($main::Ok) x 2]



=== TEST 5: no Authorization header: 401 "Invalid or missing authentication" (the doc's example)
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer
Content-Type: application/json
Cache-Control: no-store
--- response_body chomp
{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or missing authentication"}



=== TEST 6: an empty Authorization header is no credential
--- more_headers
Authorization:
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer
--- response_body chomp
{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or missing authentication"}



=== TEST 7: "Bearer" without a token is no credential
--- more_headers
Authorization: Bearer
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 401
--- raw_response_headers_like: \r\n(?i:WWW-Authenticate): Bearer
--- response_body chomp
{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or missing authentication"}



=== TEST 8: Basic credentials are refused as missing authentication
--- more_headers
Authorization: Basic dXNlcjpwYXNzd29yZA==
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
--- response_body chomp
{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or missing authentication"}



=== TEST 9: a token that is not JWT-shaped (not exactly two dots) is missing authentication
--- more_headers eval
["Authorization: Bearer not-a-jwt",
 "Authorization: Bearer abc.def",
 "Authorization: Bearer a.b.c.d",
 "Authorization: " . WaPairTest::token() . ".extra"]
--- request eval
[("POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}") x 4]
--- error_code eval
[401, 401, 401, 401]
--- response_headers eval
[('WWW-Authenticate: Bearer error="invalid_token"') x 4]
--- response_body eval
[($main::Missing) x 4]



=== TEST 10: an expired token: 401 "Invalid or expired JWT token" (the doc's example)
--- more_headers eval
"Authorization: Bearer " . WaPairTest::token(exp => time - 60)
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
Content-Type: application/json
Cache-Control: no-store
--- response_body chomp
{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"}



=== TEST 11: without leeway a token expired 5 seconds ago is refused
--- more_headers eval
"Authorization: Bearer " . WaPairTest::token(exp => time - 5)
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 401
--- response_body chomp
{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"}



=== TEST 12: a token not valid before an hour from now is refused
--- more_headers eval
"Authorization: Bearer " . WaPairTest::token(nbf => time + 3600)
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 401
--- response_body chomp
{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"}



=== TEST 13: a token whose nbf has passed is accepted
--- more_headers eval
"Authorization: Bearer " . WaPairTest::token(nbf => time - 60)
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}



=== TEST 14: wa_pair_jwt_leeway forgives clock skew on exp and nbf, and no more
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_leeway 2m;
    }
--- more_headers eval
["Authorization: Bearer " . WaPairTest::token(exp => time - 30),
 "Authorization: Bearer " . WaPairTest::token(nbf => time + 30),
 "Authorization: Bearer " . WaPairTest::token(exp => time - 600),
 "Authorization: Bearer " . WaPairTest::token(nbf => time + 600)]
--- request eval
[("POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}") x 4]
--- error_code eval
[200, 200, 401, 401]
--- response_body eval
[$main::Ok, $main::Ok, $main::BadJwt, $main::BadJwt]



=== TEST 15: a token signed with another secret is refused
--- more_headers eval
"Authorization: Bearer " . WaPairTest::token(key => 'wrong')
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
--- response_body chomp
{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"}



=== TEST 16: a server configured with another secret refuses our tokens
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE_WRONG;
    }
--- more_headers eval
"Authorization: Bearer " . WaPairTest::token()
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 401
--- response_body chomp
{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"}



=== TEST 17: the trailing newline of the secret file is not part of the key
--- more_headers eval
"Authorization: Bearer " . WaPairTest::token(secret => WaPairTest::secret() . "\n")
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 401
--- response_body chomp
{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"}



=== TEST 18: a secret file ending in CRLF gives the same key
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE_CRLF;
    }
--- more_headers eval
"Authorization: Bearer " . WaPairTest::token()
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}



=== TEST 19: a binary secret (raw bytes with a NUL inside) is used whole
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE_BINARY;
    }
--- more_headers eval
["Authorization: Bearer " . WaPairTest::token(key => 'binary'),
 "Authorization: Bearer " . WaPairTest::token(secret => substr(WaPairTest::binary_secret(), 0, index(WaPairTest::binary_secret(), "\0")))]
--- request eval
[("POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}") x 2]
--- error_code eval
[200, 401]
--- response_body eval
[$main::Ok, $main::BadJwt]



=== TEST 20: alg "none" is never accepted, in any spelling
--- more_headers eval
["Authorization: Bearer " . WaPairTest::raw_jwt(header => {alg => 'none', typ => 'JWT'}),
 "Authorization: Bearer " . WaPairTest::raw_jwt(header => {alg => 'None', typ => 'JWT'}),
 "Authorization: Bearer " . WaPairTest::raw_jwt(header => {alg => 'NONE', typ => 'JWT'}),
 "Authorization: Bearer " . WaPairTest::raw_jwt(header => {alg => 'none'}, signature => 'c2lnbmF0dXJl')]
--- request eval
[("POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}") x 4]
--- error_code eval
[401, 401, 401, 401]
--- response_body eval
[($main::BadJwt) x 4]



=== TEST 21: asymmetric algorithms are not on the allow-list (no keys for them)
--- more_headers eval
["Authorization: Bearer " . WaPairTest::token(alg => 'RS256'),
 "Authorization: Bearer " . WaPairTest::token(alg => 'ES256')]
--- request eval
[("POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}") x 2]
--- error_code eval
[401, 401]
--- response_body eval
[($main::BadJwt) x 2]



=== TEST 22: the header's alg must be the algorithm of the signature
--- more_headers eval
["Authorization: Bearer " . WaPairTest::raw_jwt(header => {alg => 'HS256', typ => 'JWT'}, sign => 'HS512'),
 "Authorization: Bearer " . WaPairTest::raw_jwt(header => {alg => 'HS512', typ => 'JWT'}, sign => 'HS256'),
 "Authorization: Bearer " . WaPairTest::raw_jwt(header => {typ => 'JWT'}, sign => 'HS256'),
 "Authorization: Bearer " . WaPairTest::raw_jwt(header => {alg => 'HS256', typ => 'JWT'}, sign => 'HS256')]
--- request eval
[("POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}") x 4]
--- error_code eval
[401, 401, 401, 200]
--- response_body eval
[$main::BadJwt, $main::BadJwt, $main::BadJwt, $main::Ok]



=== TEST 23: a tampered token is refused: payload swapped, signature changed, cut or empty
--- more_headers eval
my @good = split /\./, WaPairTest::token(device_id => 'dev-42');
my @other = split /\./, WaPairTest::token(device_id => 'dev-666', key => 'wrong');
my $flipped = $good[2];
substr($flipped, 5, 1) = substr($flipped, 5, 1) eq 'A' ? 'B' : 'A';
["Authorization: Bearer $good[0].$other[1].$good[2]",
 "Authorization: Bearer $good[0].$good[1].$flipped",
 "Authorization: Bearer $good[0].$good[1]." . substr($good[2], 0, 20),
 "Authorization: Bearer $good[0].$good[1]."]
--- request eval
[("POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}") x 4]
--- error_code eval
[401, 401, 401, 401]
--- response_headers eval
[('WWW-Authenticate: Bearer error="invalid_token"') x 4]
--- response_body eval
[($main::BadJwt) x 4]



=== TEST 24: malformed segments are refused: padding, standard base64, not JSON, not an object
--- more_headers eval
["Authorization: Bearer " . WaPairTest::raw_jwt(payload_json => '{"device_id":"dev?>?>"}', sign => 'HS256', base64 => 'padded'),
 "Authorization: Bearer " . WaPairTest::raw_jwt(payload_json => '{"device_id":"dev?>?>"}', sign => 'HS256', base64 => 'standard'),
 "Authorization: Bearer " . WaPairTest::raw_jwt(payload_json => 'device_id=dev-42', sign => 'HS256'),
 "Authorization: Bearer " . WaPairTest::raw_jwt(header_json => 'HS256', sign => 'HS256'),
 "Authorization: Bearer " . WaPairTest::raw_jwt(payload_json => '["dev-42"]', sign => 'HS256'),
 "Authorization: Bearer " . WaPairTest::raw_jwt(payload_json => '{"device_id":"dev-42"', sign => 'HS256'),
 "Authorization: Bearer " . WaPairTest::raw_jwt(payload_json => '{"device_id":"dev?>?>"}', sign => 'HS256')]
--- request eval
[("POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}") x 7]
--- error_code eval
[(401) x 6, 200]
--- response_body eval
[($main::BadJwt) x 6, $main::Ok]



=== TEST 25: a token of go-whatsapp-multi-session-rest-api verifies unchanged (no exp)
--- more_headers eval
"Authorization: Bearer " . WaPairTest::raw_jwt(
    header_json  => '{"alg":"HS256","typ":"JWT"}',
    payload_json => '{"device_id":"7b0e0c7e-3d1f-4a57-9c43-0d1c2a5e9f10","api_key_id":3,"version":1,'
                  . '"sub":"7b0e0c7e-3d1f-4a57-9c43-0d1c2a5e9f10","iat":' . time . ',"nbf":' . time . '}',
    sign         => 'HS256')
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}



=== TEST 26: the device sent to the backend is the token's device_id
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_SERVER_PORT/recorder/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- more_headers eval
"Authorization: Bearer " . WaPairTest::token(device_id => 'dev-42', sub => 'user-7')
--- request eval
["POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}", "GET /backend-log"]
--- response_body eval
[$main::Ok, qq{dev-42 {"device_id":"dev-42","phone":"6281234567890"}\n}]



=== TEST 27: without device_id the device is the token's sub
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_SERVER_PORT/recorder/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- more_headers eval
"Authorization: Bearer " . WaPairTest::token(device_id => undef, sub => 'dev-from-sub')
--- request eval
["POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}", "GET /backend-log"]
--- response_body eval
[$main::Ok, qq{dev-from-sub {"device_id":"dev-from-sub","phone":"6281234567890"}\n}]



=== TEST 28: wa_pair_jwt_device_claim names the claim; sub is still the fallback
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_SERVER_PORT/recorder/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_device_claim session;
    }
--- more_headers eval
["Authorization: Bearer " . WaPairTest::token(device_id => 'not-this', claims => {session => 'sess-1'}),
 "Authorization: Bearer " . WaPairTest::token(device_id => 'not-this', sub => 'sub-2'),
 "Authorization: Bearer " . WaPairTest::token(device_id => 'not-this'),
 "Authorization: Bearer " . WaPairTest::token(device_id => 'not-this', sub => 'not-this-either', claims => {session => 'sess-3'}),
 ""]
--- request eval
["POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}",
 "POST /devices/me/login-code\n{\"phone\":\"6281234567891\"}",
 "POST /devices/me/login-code\n{\"phone\":\"6281234567892\"}",
 "POST /devices/me/login-code\n{\"phone\":\"6281234567893\"}",
 "GET /backend-log"]
--- error_code eval
[200, 200, 401, 200, 200]
--- response_body eval
[$main::Ok, $main::Ok, $main::BadJwt, $main::Ok,
 qq{sess-1 {"device_id":"sess-1","phone":"6281234567890"}\n}
 . qq{sub-2 {"device_id":"sub-2","phone":"6281234567891"}\n}
 . qq{sess-3 {"device_id":"sess-3","phone":"6281234567893"}\n}]



=== TEST 29: a token without any device claim is refused
--- more_headers eval
"Authorization: Bearer " . WaPairTest::token(device_id => undef, claims => {api_key_id => 3})
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 401
--- response_body chomp
{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"}



=== TEST 30: a device id is 1..128 printable ASCII characters; an integer claim is printed in decimal
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_SERVER_PORT/recorder/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- more_headers eval
["Authorization: Bearer " . WaPairTest::token(device_id => 'd' x 128),
 "Authorization: Bearer " . WaPairTest::token(device_id => 4242),
 "Authorization: Bearer " . WaPairTest::token(device_id => ''),
 "Authorization: Bearer " . WaPairTest::token(device_id => 'd' x 129),
 "Authorization: Bearer " . WaPairTest::token(device_id => 'dev 42'),
 "Authorization: Bearer " . WaPairTest::token(device_id => "dev\x{e9}"),
 "Authorization: Bearer " . WaPairTest::token(device_id => "dev\n42"),
 "Authorization: Bearer " . WaPairTest::token(claims => {device_id => {id => 'dev-42'}}),
 "Authorization: Bearer " . WaPairTest::token(claims => {device_id => JSON::PP::true()}),
 ""]
--- request eval
[("POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}") x 9, "GET /backend-log"]
--- error_code eval
[200, 200, 401, 401, 401, 401, 401, 401, 401, 200]
--- response_body eval
[$main::Ok, $main::Ok, ($main::BadJwt) x 7,
 ('d' x 128) . ' {"device_id":"' . ('d' x 128) . '","phone":"6281234567890"}' . "\n"
 . qq{4242 {"device_id":"4242","phone":"6281234567890"}\n}]



=== TEST 31: a device id with quotes and backslashes reaches the backend as valid JSON
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_SERVER_PORT/recorder/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- more_headers eval
["Authorization: Bearer " . WaPairTest::token(device_id => 'dev"42\\x{}'), ""]
--- request eval
["POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}", "GET /backend-log"]
--- response_body eval
[$main::Ok, 'dev"42\\x{} {"device_id":"dev\\"42\\\\x{}","phone":"6281234567890"}' . "\n"]



=== TEST 32: a 401 is answered before the body is read: it need not arrive
--- raw_request eval
WaPairTest::raw_post('/devices/me/login-code',
    headers => ['Content-Type: application/json', 'Content-Length: 1000'],
    body    => '{"phone":')
--- abort
--- timeout: 1
--- error_code: 401
--- response_body chomp
{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or missing authentication"}



=== TEST 33: an invalid token is answered before the body is read too
--- raw_request eval
WaPairTest::raw_post('/devices/me/login-code',
    headers => ['Authorization: Bearer ' . WaPairTest::token(exp => time - 60),
                'Content-Type: application/json', 'Content-Length: 1000'],
    body    => '{"phone":')
--- abort
--- timeout: 1
--- error_code: 401
--- response_body chomp
{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"}



=== TEST 34: authentication comes before the Content-Type check
--- more_headers
Content-Type: text/plain
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 401
--- response_body chomp
{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or missing authentication"}



=== TEST 35: authentication comes before the body size check
--- config
    location = /devices/me/login-code {
        client_max_body_size 16;
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 401
--- response_body chomp
{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or missing authentication"}



=== TEST 36: refused credentials never reach the backend
--- more_headers eval
["", "Authorization: Bearer " . WaPairTest::token(exp => time - 60),
 "Authorization: Bearer " . WaPairTest::token(key => 'wrong'), ""]
--- request eval
[("POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}") x 3, "GET /backend-stats"]
--- error_code eval
[401, 401, 401, 200]
--- response_body eval
[$main::Missing, $main::BadJwt, $main::BadJwt, '{"requests":0,"by_path":{}}']



=== TEST 37: the secret never shows in the log, not even at debug level
--- more_headers eval
"Authorization: Bearer " . WaPairTest::token(exp => time - 60)
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 401
--- no_error_log eval
[WaPairTest::secret()]
--- response_body chomp
{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"}
