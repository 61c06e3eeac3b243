use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# wa_pair_authenticate on: the module's authentication in the access phase of any location,
# e.g. an edge that routes each device to the host of its session with proxy_pass. An
# accepted request has $wa_pair_device_id and $wa_pair_auth for map, proxy_set_header and
# logs; a refused one gets the contract's 401 envelope with WWW-Authenticate, before any
# other phase runs. In a wa_pair location the content handler does not authenticate again.
#
# /echo stands for the host behind the edge: it answers the headers it was sent.

our $Helpers = <<'_EOC_';
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /echo {
        default_type text/plain;
        return 200 "device=$http_x_device auth=$http_x_auth token=$http_authorization\n";
    }
    location = /backend-stats {
        proxy_pass http://unix:$TEST_NGINX_BACKEND_SOCK:/_stats;
    }
_EOC_

our $Missing = '{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or missing authentication"}';
our $Invalid = '{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"}';
sub main::pair { "POST $_[0]\n{\"phone\":\"6281234567890\"}" }

WaPairTest::write_file("$WaPairTest::Dir/edge-keys.txt", WaPairTest::sha256_hex('edge-key-1') . " dev-key-1\n");
audit_credential('edge-key-1');

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => ($block->config // '') . $Helpers);
    $block->set_value(init => 'WaPairTest::backend_reset();') unless defined $block->init;
    $block->set_value(more_headers => with_headers($block->more_headers, 'Content-Type: application/json'))
        unless defined $block->must_die;
    # nothing alarming may reach the error log, whatever the block proves
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

check_accum_error_log();   # --- error_log: anywhere in the block's log, whichever request wrote it
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a proxy_pass location authenticates: the device and the method go on in headers, the token too
--- config
    location = /edge {
        wa_pair_authenticate on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
        proxy_set_header X-Device $wa_pair_device_id;
        proxy_set_header X-Auth $wa_pair_auth;
    }
--- more_headers eval
WaPairTest::auth_header(device_id => 'dev-7')
--- request eval
main::pair("/edge")
--- response_body_like eval
qr/^device=dev-7 auth=jwt token=Bearer ey[\w.-]+\n\z/



=== TEST 2: no credential: the contract's 401 envelope with WWW-Authenticate: Bearer, and the request goes no further
--- config
    location = /edge {
        wa_pair_authenticate on;
        proxy_pass http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- request eval
main::pair("/edge")
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer
Content-Type: application/json
Cache-Control: no-store
X-Content-Type-Options: nosniff
--- response_body eval
$main::Missing



=== TEST 3: a token with a bad signature is refused at the edge: error="invalid_token", the backend never asked
--- config
    location = /edge {
        wa_pair_authenticate on;
        proxy_pass http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- more_headers eval
WaPairTest::auth_header(key => 'wrong')
--- request eval
[main::pair("/edge"), "GET /backend-stats"]
--- error_code eval
[401, 200]
--- response_headers eval
['WWW-Authenticate: Bearer error="invalid_token"', ""]
--- response_body_like eval
["^\Q$main::Invalid\E\$", '^\{"requests":0,']



=== TEST 4: API keys work at the edge as in a wa_pair location
--- config
    location = /edge {
        wa_pair_authenticate on;
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR/edge-keys.txt;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
        proxy_set_header X-Device $wa_pair_device_id;
        proxy_set_header X-Auth $wa_pair_auth;
    }
--- more_headers
Authorization: edge-key-1
--- request eval
main::pair("/edge")
--- response_body_like eval
qr/^device=dev-key-1 auth=api_key token=edge-key-1\n\z/



=== TEST 5: a map from $wa_pair_device_id places each device (wa_pair_placement); one the map does not place gets the 503 envelope from the edge
--- http_config
    map $wa_pair_device_id $owner {
        dev-7    /echo;
        default  "";
    }
--- config
    location = /edge {
        wa_pair_authenticate on;
        wa_pair_placement $owner;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT$owner;
        proxy_set_header X-Device $wa_pair_device_id;
    }
--- more_headers eval
[WaPairTest::auth_header(device_id => 'dev-8'), WaPairTest::auth_header(device_id => 'dev-7')]
--- request eval
[main::pair("/edge"), main::pair("/edge")]
--- error_code eval
[503, 200]
--- response_body_like eval
['^\{"status":false,"code":503,"message":"Service unavailable","error":"Pairing backend is unavailable"\}\z', '^device=dev-7 auth= ']
--- error_log
wa_pair: device "dev-8" has no owner: "wa_pair_placement $owner" is empty for it



=== TEST 6: an owner host that is down: the edge answers the 503 envelope, not nginx's page
--- config
    location = /edge {
        wa_pair_authenticate on;
        proxy_pass http://127.0.0.1:1/devices/me/login-code;
    }
--- more_headers eval
WaPairTest::auth_header()
--- request eval
main::pair("/edge")
--- error_code: 503
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body chomp
{"status":false,"code":503,"message":"Service unavailable","error":"Pairing backend is unavailable"}



=== TEST 7: an owner host that does not answer in time: the 504 envelope
--- config
    location = /edge {
        wa_pair_authenticate on;
        proxy_read_timeout 300ms;
        proxy_pass http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?delay=1;
    }
--- more_headers eval
WaPairTest::auth_header()
--- request eval
main::pair("/edge")
--- error_code: 504
--- response_body chomp
{"status":false,"code":504,"message":"Gateway timeout","error":"Pairing backend did not answer in time"}
--- timeout: 5



=== TEST 8: the owner host's own answers pass through the edge unchanged: status, envelope, Retry-After
--- config
    location = /owner {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=429&retry_after=7;
    }
    location = /edge {
        wa_pair_authenticate on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/owner;
    }
--- more_headers eval
WaPairTest::auth_header()
--- request eval
main::pair("/edge")
--- error_code: 429
--- response_headers
Retry-After: 7
--- response_body chomp
{"status":false,"code":429,"message":"Too many requests","error":"Too many pairing requests"}



=== TEST 9: in a wa_pair location the content handler does not authenticate twice, and the pairing works
--- config
    location = /p {
        wa_pair_authenticate on;
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
    }
--- more_headers eval
WaPairTest::auth_header(device_id => 'dev-7')
--- request eval
main::pair("/p")
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}
--- error_log
wa_pair: authenticated by jwt
--- log_level: debug



=== TEST 10: wa_pair_authenticate at server level applies to every location; off turns it off in one
--- config
    wa_pair_authenticate on;
    location = /edge {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /open {
        wa_pair_authenticate off;
        return 200 "open\n";
    }
--- request eval
[main::pair("/edge"), "GET /open"]
--- error_code eval
[401, 200]

