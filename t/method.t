use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# Step 1 of the request flow (docs/architecture.md §1): POST is the only method. Anything else
# is a 405 envelope with Allow: POST, decided before authentication, and the backend is
# never called.
#
# Unless a block says otherwise: the config is the doc's location in front of the dev
# backend (plus /backend-stats, the dev backend's request counter, reset before each
# block), and a request carries a valid device token and Content-Type: application/json
# ("!Name" in --- more_headers: send no Name header).

our $LoginCode = <<'_EOC_';
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
    location = /backend-stats {
        proxy_pass http://unix:$TEST_NGINX_BACKEND_SOCK:/_stats;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $LoginCode) unless defined $block->config;
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

=== TEST 1: GET is refused with 405 and Allow: POST
--- request
GET /devices/me/login-code
--- error_code: 405
--- response_headers
Allow: POST
Content-Type: application/json
Cache-Control: no-store
--- response_body chomp
{"status":false,"code":405,"message":"Method not allowed","error":"Only POST is allowed"}



=== TEST 2: PUT with a valid body is refused with 405
--- request
PUT /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 405
--- response_headers
Allow: POST
Content-Type: application/json
Cache-Control: no-store
--- response_body chomp
{"status":false,"code":405,"message":"Method not allowed","error":"Only POST is allowed"}



=== TEST 3: DELETE is refused with 405
--- request
DELETE /devices/me/login-code
--- error_code: 405
--- response_headers
Allow: POST
Content-Type: application/json
--- response_body chomp
{"status":false,"code":405,"message":"Method not allowed","error":"Only POST is allowed"}



=== TEST 4: PATCH is refused with 405
--- request
PATCH /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 405
--- response_headers
Allow: POST
Content-Type: application/json
--- response_body chomp
{"status":false,"code":405,"message":"Method not allowed","error":"Only POST is allowed"}



=== TEST 5: OPTIONS is refused with 405 too
--- request
OPTIONS /devices/me/login-code
--- error_code: 405
--- response_headers
Allow: POST
Content-Type: application/json
--- response_body chomp
{"status":false,"code":405,"message":"Method not allowed","error":"Only POST is allowed"}



=== TEST 6: HEAD is refused with 405 and the envelope's headers but no body
--- request
HEAD /devices/me/login-code
--- error_code: 405
--- response_headers
Allow: POST
Content-Type: application/json
Cache-Control: no-store
--- raw_response_headers_like: \r\n(?i:X-Request-ID): [0-9a-f]{32}\r\n
--- response_body



=== TEST 7: the method is checked before the credential: GET without a token is a 405, not a 401
--- more_headers
!Authorization
--- request
GET /devices/me/login-code
--- error_code: 405
--- response_headers
Allow: POST
!WWW-Authenticate
--- response_body chomp
{"status":false,"code":405,"message":"Method not allowed","error":"Only POST is allowed"}



=== TEST 8: an X-Request-ID is echoed on a 405
--- more_headers
X-Request-ID: method-check-1
--- request
DELETE /devices/me/login-code
--- error_code: 405
--- response_headers
Allow: POST
X-Request-ID: method-check-1
--- response_body_like: "code":405



=== TEST 9: refused methods never reach the backend, POST does
--- request eval
["GET /devices/me/login-code",
 "PUT /devices/me/login-code\n{\"phone\":\"6281234567890\"}",
 "DELETE /devices/me/login-code",
 "GET /backend-stats",
 "POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}",
 "GET /backend-stats"]
--- error_code eval
[405, 405, 405, 200, 200, 200]
--- response_body_like eval
['"code":405', '"code":405', '"code":405', '^\{"requests":0,', '"code":200', '^\{"requests":1,']



=== TEST 10: a 200 answer carries no Allow header
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_headers
!Allow
Content-Type: application/json
--- response_body_like: "status":true
