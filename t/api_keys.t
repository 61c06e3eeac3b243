use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# API keys (wa_pair_api_keys_file): a file of "<sha256-hex-of-key> <device-id>" lines, '#'
# comments. A credential that is not a JWT (not exactly two dots) is hashed and looked up
# there; an unknown key is 401 "Invalid or missing authentication". Plain keys in the file
# are refused at start, without repeating them. $wa_pair_auth says "api_key" (or "jwt") and
# $wa_pair_device_id the device, for access logs.
#
# Unless a block says otherwise: the location accepts the JWT secret and the API keys below,
# in front of the dev backend (answering ABCD-1234); a request carries Content-Type:
# application/json; the Authorization header is each block's own. Every config also has:
#   /recorder/       the dev backend behind a proxy that logs "<X-Device-Id> <body>" of each
#                    request it is sent to /backend-log
#   /backend-stats   the dev backend's request counter, reset before each block

our @Keys = map { 'wa_live_' . WaPairTest::random_hex(16) } 1 .. 4;   # $Keys[3]: in no file
WaPairTest::audit_credential($_) for @Keys;
# nginx itself logs request headers at debug level; no line of the module shows a key
our @KeyInModuleLine = map { qr/wa_pair.*\Q$_\E|\Q$_\E.*wa_pair/ } @Keys;
my @Hash = map { sha256_hex($_) } @Keys;

write_test_file('api-keys.txt', <<"_EOF_");
# wa_pair API keys: <sha256-hex-of-key> <device-id>
$Hash[0] dev-api-1

\t\U$Hash[1]\E\tdev-api-2\r
   $Hash[2]    dev-api-1
_EOF_
write_test_file('api-keys-other.txt', "$Hash[3] dev-other\n");
write_test_file('api-keys-empty.txt', "# no keys yet\n");
write_test_file('api-keys-plain.txt', "# the key itself by mistake:\n$Hash[0] dev-api-1\n$Keys[1] dev-api-2\n");
write_test_file('api-keys-dup.txt', "$Hash[0] dev-api-1\n$Hash[1] dev-api-2\n\U$Hash[0]\E dev-api-3\n");
write_test_file('api-keys-fields.txt', "$Hash[0] dev-api-1 # Alice\n");
write_test_file('api-keys-device.txt', "$Hash[0] " . ('d' x 129) . "\n");

our $Location = <<'_EOC_';
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_SERVER_PORT/recorder/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR/api-keys.txt;
        add_header X-Auth-Method $wa_pair_auth always;
        add_header X-Auth-Device $wa_pair_device_id always;
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
our $Post = "POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}";

add_block_preprocessor(sub {
    my $block = shift;
    unless (defined $block->must_die) {
        $block->set_value(config => ($block->config // $Location) . $Helpers);
        $block->set_value(http_config => ($block->http_config // '')
            . "    log_format wa_backend escape=none '\$http_x_device_id \$request_body';\n");
        $block->set_value(init => 'WaPairTest::backend_reset();') unless defined $block->init;
        $block->set_value(more_headers => with_headers($block->more_headers,
                              'Content-Type: application/json'))
            unless defined $block->raw_request;
    }
    # nothing alarming may reach the error log, and the module never logs a key
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming(),
                                                    @main::KeyInModuleLine));
});

log_level('debug');
no_shuffle();
run_tests();

__DATA__

=== TEST 1: the doc's curl with an API key: "Authorization: <key>"; the key's device goes to the backend
--- more_headers eval
["Authorization: $main::Keys[0]", ""]
--- request eval
[$main::Post, "GET /backend-log"]
--- response_headers eval
["X-Auth-Method: api_key\nX-Auth-Device: dev-api-1\n!WWW-Authenticate", ""]
--- response_body eval
[$main::Ok, qq{dev-api-1 {"device_id":"dev-api-1","phone":"6281234567890"}\n}]



=== TEST 2: "Bearer <key>" in any case; hashes in either case, tab-separated, CRLF lines; two keys of one device
--- more_headers eval
["Authorization: Bearer $main::Keys[0]",
 "Authorization: bearer   $main::Keys[1]",
 "Authorization: BEARER $main::Keys[2]",
 ""]
--- request eval
[$main::Post, $main::Post, $main::Post, "GET /backend-log"]
--- response_body eval
[$main::Ok, $main::Ok, $main::Ok,
 qq{dev-api-1 {"device_id":"dev-api-1","phone":"6281234567890"}\n}
 . qq{dev-api-2 {"device_id":"dev-api-2","phone":"6281234567890"}\n}
 . qq{dev-api-1 {"device_id":"dev-api-1","phone":"6281234567890"}\n}]



=== TEST 3: an unknown key is "Invalid or missing authentication", with error="invalid_token"
--- more_headers eval
["Authorization: $main::Keys[3]",
 "Authorization: Bearer " . substr($main::Keys[0], 0, -1),
 "Authorization: Bearer $main::Keys[0]x",
 "Authorization: Bearer \U$main::Keys[0]",
 "Authorization: Bearer " . WaPairTest::sha256_hex($main::Keys[0]),
 "Authorization: Bearer wa_live.only-one-dot"]
--- request eval
[($main::Post) x 6]
--- error_code eval
[(401) x 6]
--- response_headers eval
[("WWW-Authenticate: Bearer error=\"invalid_token\"\n!X-Auth-Method\n!X-Auth-Device") x 6]
--- response_body eval
[($main::Missing) x 6]
--- error_log
wa_pair: unauthorized: unknown API key



=== TEST 4: refused keys never reach the backend
--- more_headers eval
["Authorization: $main::Keys[3]", "Authorization: Bearer nope", ""]
--- request eval
[$main::Post, $main::Post, "GET /backend-stats"]
--- error_code eval
[401, 401, 200]
--- response_body eval
[$main::Missing, $main::Missing, '{"requests":0,"by_path":{}}']



=== TEST 5: JWTs still work beside the API keys; a JWT-shaped credential is never looked up as a key
--- more_headers eval
["Authorization: Bearer " . WaPairTest::token(device_id => 'dev-jwt'),
 "Authorization: Bearer " . WaPairTest::token(exp => time - 60),
 "Authorization: Bearer a.b.c"]
--- request eval
[($main::Post) x 3]
--- error_code eval
[200, 401, 401]
--- response_headers eval
["X-Auth-Method: jwt\nX-Auth-Device: dev-jwt", "!X-Auth-Method", "!X-Auth-Method"]
--- response_body eval
[$main::Ok, $main::BadJwt, $main::BadJwt]



=== TEST 6: without wa_pair_api_keys_file an API key is no credential
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- more_headers eval
"Authorization: $main::Keys[0]"
--- request eval
$main::Post
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
--- response_body eval
$main::Missing
--- error_log
not a JWT (needs exactly two dots) and no API keys



=== TEST 7: an API key file alone is a credential source; JWTs are then refused
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR/api-keys.txt;
    }
--- more_headers eval
["Authorization: $main::Keys[0]", "Authorization: Bearer " . WaPairTest::token()]
--- request eval
[$main::Post, $main::Post]
--- error_code eval
[200, 401]
--- response_body eval
[$main::Ok, $main::BadJwt]



=== TEST 8: an empty key file (comments only) starts, and knows no key
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR/api-keys-empty.txt;
    }
--- more_headers eval
"Authorization: $main::Keys[0]"
--- request eval
$main::Post
--- error_code: 401
--- response_body eval
$main::Missing



=== TEST 9: the file is inherited from the http level; a location's own file replaces it
--- http_config
    wa_pair_api_keys_file $TEST_NGINX_WA_DIR/api-keys.txt;
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
    }
    location = /other-tenant {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR/api-keys-other.txt;
    }
--- more_headers eval
["Authorization: $main::Keys[0]", "Authorization: $main::Keys[3]",
 "Authorization: $main::Keys[0]", "Authorization: $main::Keys[3]"]
--- request eval
[$main::Post, $main::Post,
 "POST /other-tenant\n{\"phone\":\"6281234567890\"}", "POST /other-tenant\n{\"phone\":\"6281234567890\"}"]
--- error_code eval
[200, 401, 401, 200]



=== TEST 10: $wa_pair_auth and $wa_pair_device_id in an access log ("-" when not authenticated)
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR/api-keys.txt;
        access_log logs/auth.log wa_auth;
    }
    location = /auth-log {
        alias logs/auth.log;
    }
--- http_config
    log_format wa_auth '$status $wa_pair_auth $wa_pair_device_id';
--- more_headers eval
["Authorization: $main::Keys[1]", "Authorization: " . WaPairTest::token(device_id => 'dev-jwt-7'),
 "Authorization: $main::Keys[3]", "", ""]
--- request eval
[$main::Post, $main::Post, $main::Post, "GET /devices/me/login-code", "GET /auth-log"]
--- error_code eval
[200, 200, 401, 405, 200]
--- response_body eval
[$main::Ok, $main::Ok, $main::Missing,
 '{"status":false,"code":405,"message":"Method not allowed","error":"Only POST is allowed"}',
 "200 api_key dev-api-2\n200 jwt dev-jwt-7\n401 - -\n405 - -\n"]



=== TEST 11: a plain key in the file stops nginx: the line is named, the key is not repeated
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR/api-keys-plain.txt;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_api_keys_file" file ".*\/api-keys-plain\.txt", line 3: the first field is not the SHA-256 of a key in hex \(64 digits\); a plain key is refused: store printf %s KEY \| sha256sum/



=== TEST 12: a hash listed twice (in any case) stops nginx
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR/api-keys-dup.txt;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_api_keys_file" file ".*\/api-keys-dup\.txt", line 3: a key hash listed twice/



=== TEST 13: a third field (an inline comment) stops nginx
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR/api-keys-fields.txt;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_api_keys_file" file ".*\/api-keys-fields\.txt", line 1: more than two fields/



=== TEST 14: a device id of 129 characters stops nginx
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR/api-keys-device.txt;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_api_keys_file" file ".*\/api-keys-device\.txt", line 1: the device id is not 1\.\.128 printable ASCII characters/



=== TEST 15: a missing file stops nginx, and the path is named
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR/no-such-keys.txt;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_api_keys_file" cannot open ".*\/no-such-keys\.txt"/



=== TEST 16: a directory stops nginx
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_api_keys_file" ".*" is not a regular file/



=== TEST 17: wa_pair_api_keys_file given twice in one block is a duplicate
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR/api-keys.txt;
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR/api-keys-other.txt;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_api_keys_file" directive is duplicate/



=== TEST 18: inside an "if" of a wa_pair location the same credentials apply
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR/api-keys.txt;
        if ($http_x_branch) {
            set $branch 1;
        }
    }
--- more_headers eval
["X-Branch: 1\nAuthorization: $main::Keys[0]", "X-Branch: 1\nAuthorization: $main::Keys[3]",
 "X-Branch: 1\nAuthorization: " . WaPairTest::token()]
--- request eval
[($main::Post) x 3]
--- error_code eval
[200, 401, 200]



=== TEST 19: the authentication directives are harmless in a location without wa_pair
--- config
    location = /plain {
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR/api-keys.txt;
        wa_pair_jwt_revocation_file $TEST_NGINX_WA_DIR/api-keys-empty.txt;
        wa_pair_jwt_algorithms ES256;
        wa_pair_jwt_require iss=x exp;
        return 200 "plain $wa_pair_auth.$wa_pair_device_id.\n";
    }
--- more_headers eval
"Authorization: $main::Keys[0]"
--- request
GET /plain
--- response_body
plain ..
