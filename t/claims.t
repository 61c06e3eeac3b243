use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# The claims and header of a JWT: wa_pair_jwt_require (CLAIM present, CLAIM=VALUE equal; aud
# may be an array; a location replaces the requirement of each claim it names and keeps the
# others); nbf and iat later than now beyond wa_pair_jwt_leeway refused; a crit header
# refused; typ, when present, JWT. The claims api_key_id and version of the origin's tokens
# are forwarded to the backend as X-Api-Key-Id and X-Token-Version.
#
# Unless a block says otherwise: the location takes the JWT secret and the RSA key, in front
# of the dev backend (answering ABCD-1234) behind /recorder/, which logs
# "<X-Device-Id> <X-Api-Key-Id> <X-Token-Version>" of each request it is sent to /backend-log;
# a request carries Content-Type: application/json.

WaPairTest::write_jwt_keys();

our $Helpers = <<'_EOC_';
    location /recorder/ {
        access_log logs/backend.log wa_backend;
        proxy_pass http://unix:$TEST_NGINX_BACKEND_SOCK:/;
    }
    location = /backend-log {
        alias logs/backend.log;
    }
_EOC_

our $Ok = '{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}';
our $BadJwt = '{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"}';
our $Post = "POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}";

sub bearer { "Authorization: Bearer " . WaPairTest::token(@_) }

add_block_preprocessor(sub {
    my $block = shift;
    unless (defined $block->must_die) {
        $block->set_value(config => $block->config . $Helpers);
        $block->set_value(http_config => ($block->http_config // '')
            . "    log_format wa_backend escape=none '\$http_x_device_id \$http_x_api_key_id \$http_x_token_version';\n");
        $block->set_value(more_headers => with_headers($block->more_headers,
                              'Content-Type: application/json'));
    }
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

log_level('debug');
no_shuffle();
run_tests();

__DATA__

=== TEST 1: wa_pair_jwt_require iss=... aud=... exp: every requirement must be met
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_RSA_PEM;
        wa_pair_jwt_require iss=https://id.example.com aud=wa-pair exp;
    }
--- more_headers eval
my %good = (iss => 'https://id.example.com', aud => 'wa-pair');
[main::bearer(claims => {%good}),
 main::bearer(alg => 'RS256', claims => {%good, aud => ['billing', 'wa-pair']}),
 main::bearer(claims => {%good}, exp => undef),
 main::bearer(claims => {%good, iss => 'https://evil.example.com'}),
 main::bearer(claims => {%good, iss => 'https://id.example.com/'}),
 main::bearer(claims => {%good, iss => undef}),
 main::bearer(claims => {%good, aud => 'billing'}),
 main::bearer(claims => {%good, aud => ['billing']}),
 main::bearer(claims => {%good, aud => undef}),
 main::bearer(alg => 'RS256', claims => {%good, iss => 'nope'})]
--- request eval
[($main::Post) x 10]
--- error_code eval
[200, 200, (401) x 8]
--- response_body eval
[$main::Ok, $main::Ok, ($main::BadJwt) x 8]



=== TEST 2: several values of one claim are alternatives; any claim can be required
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_require iss=https://a.example iss=https://b.example;
        wa_pair_jwt_require scope=pair jti;
    }
--- more_headers eval
my %good = (scope => 'pair', jti => 'j-1');
[main::bearer(claims => {%good, iss => 'https://a.example'}),
 main::bearer(claims => {%good, iss => 'https://b.example'}),
 main::bearer(claims => {%good, iss => 'https://c.example'}),
 main::bearer(claims => {%good, iss => 'https://a.example', scope => 'admin'}),
 main::bearer(claims => {%good, iss => 'https://a.example', jti => undef})]
--- request eval
[($main::Post) x 5]
--- error_code eval
[200, 200, 401, 401, 401]



=== TEST 3: with no audience required, a token addressed to one is refused (RFC 7519 4.1.3)
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- more_headers eval
[main::bearer(claims => {aud => 'wa-pair'}), main::bearer(claims => {aud => []})]
--- request eval
[($main::Post) x 2]
--- error_code eval
[401, 200]



=== TEST 4: a location replaces the requirement of each claim it names and keeps the others
--- config
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
    wa_pair_jwt_require iss=https://id.example.com exp;
    location = /devices/me/login-code {
        wa_pair;
    }
    location = /edge {
        wa_pair;
        wa_pair_jwt_require aud=edge;
    }
    location = /partner {
        wa_pair;
        wa_pair_jwt_require iss=https://partner.example;
    }
--- more_headers eval
my %id = (iss => 'https://id.example.com');
[main::bearer(claims => {%id}),
 main::bearer(claims => {%id}, exp => undef),
 main::bearer(claims => {%id, aud => 'edge'}),
 main::bearer(claims => {%id}),
 main::bearer(claims => {aud => 'edge'}),
 main::bearer(claims => {iss => 'https://partner.example'}),
 main::bearer(claims => {iss => 'https://partner.example'}, exp => undef),
 main::bearer(claims => {%id})]
--- request eval
["POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}",
 "POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}",
 "POST /edge\n{\"phone\":\"6281234567890\"}",
 "POST /edge\n{\"phone\":\"6281234567890\"}",
 "POST /edge\n{\"phone\":\"6281234567890\"}",
 "POST /partner\n{\"phone\":\"6281234567890\"}",
 "POST /partner\n{\"phone\":\"6281234567890\"}",
 "POST /partner\n{\"phone\":\"6281234567890\"}"]
--- error_code eval
[200, 401, 200, 401, 401, 200, 401, 401]



=== TEST 5: nbf and iat later than now are refused beyond the leeway
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_EC256_PEM;
        wa_pair_jwt_leeway 1m;
    }
--- more_headers eval
[main::bearer(iat => time - 3600),
 main::bearer(iat => time + 30),
 main::bearer(alg => 'ES256', iat => time + 30, nbf => time + 30),
 main::bearer(iat => time + 600),
 main::bearer(alg => 'ES256', iat => time + 600),
 main::bearer(nbf => time + 600),
 main::bearer(claims => {iat => 'yesterday'})]
--- request eval
[($main::Post) x 7]
--- error_code eval
[200, 200, 200, 401, 401, 401, 401]



=== TEST 6: a crit header is refused (no extension is understood); typ, when present, is JWT
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_RSA_PEM;
    }
--- more_headers eval
[main::bearer(headers => { crit => ['exp'] }),
 main::bearer(alg => 'PS256', headers => { crit => ['b64'], b64 => JSON::PP::false() }),
 main::bearer(headers => { typ => 'JOSE' }),
 main::bearer(alg => 'RS256', headers => { typ => 'at+jwt' }),
 main::bearer(headers => { typ => 'jwt' }),
 main::bearer(alg => 'RS256', headers => { typ => 'application/jwt' }),
 main::bearer(headers => { typ => undef })]
--- request eval
[($main::Post) x 7]
--- error_code eval
[401, 401, 401, 401, 200, 200, 200]
--- response_body eval
[($main::BadJwt) x 4, ($main::Ok) x 3]



=== TEST 7: api_key_id and version reach the backend as X-Api-Key-Id and X-Token-Version
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_SERVER_PORT/recorder/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_ED25519_PEM;
    }
--- more_headers eval
[main::bearer(device_id => 'dev-1', claims => {api_key_id => 7, version => 3}),
 main::bearer(alg => 'EdDSA', device_id => 'dev-2', claims => {api_key_id => 'key-abc', version => 0}),
 main::bearer(device_id => 'dev-3'),
 main::bearer(device_id => 'dev-4', claims => {version => 12}) . "\nX-Api-Key-Id: 999\nX-Token-Version: 1",
 ""]
--- request eval
[($main::Post) x 4, "GET /backend-log"]
--- response_body eval
[($main::Ok) x 4, "dev-1 7 3\ndev-2 key-abc 0\ndev-3  \ndev-4  12\n"]  # absent: empty (escape=none)



=== TEST 8: malformed forwarded claims refuse the token
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- more_headers eval
[main::bearer(claims => {version => '3'}),
 main::bearer(claims => {version => -1}),
 main::bearer(claims => {version => 1.5}),
 main::bearer(claims => {api_key_id => "7\r\nX-Evil: 1"}),
 main::bearer(claims => {api_key_id => 'a b'}),
 main::bearer(claims => {api_key_id => {id => 7}})]
--- request eval
[($main::Post) x 6]
--- error_code eval
[(401) x 6]
--- response_body eval
[($main::BadJwt) x 6]



=== TEST 9: the go-whatsapp-multi-session-rest-api token shape still verifies (no exp, no aud)
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_SERVER_PORT/recorder/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- more_headers eval
["Authorization: Bearer " . WaPairTest::raw_jwt(
    header_json  => '{"alg":"HS256","typ":"JWT"}',
    payload_json => '{"api_key_id":3,"device_id":"7b0e0c7e-3d1f-4a57-9c43-0d1c2a5e9f10","iat":' . (time - 5)
                  . ',"nbf":' . (time - 5) . ',"sub":"7b0e0c7e-3d1f-4a57-9c43-0d1c2a5e9f10","version":1}',
    sign         => 'HS256'), ""]
--- request eval
[$main::Post, "GET /backend-log"]
--- response_body eval
[$main::Ok, "7b0e0c7e-3d1f-4a57-9c43-0d1c2a5e9f10 3 1\n"]



=== TEST 10: wa_pair_jwt_require aud needs a value
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_require exp aud;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid value "aud" in "wa_pair_jwt_require": "aud" needs a value: aud=AUDIENCE/



=== TEST 11: wa_pair_jwt_require exp takes no value
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_require exp=3600;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid value "exp=3600" in "wa_pair_jwt_require": "exp" takes no value/



=== TEST 12: wa_pair_jwt_require refuses an empty value and a bad claim name
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_require iss=;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid value "iss=" in "wa_pair_jwt_require": a claim value is 1 to 1024 bytes/



=== TEST 13: a claim name has no blanks
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_require "device id=dev-1";
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid value "device id=dev-1" in "wa_pair_jwt_require": a claim name is 1 to 64 printable characters/



=== TEST 14: wa_pair_jwt_require needs an argument
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_require;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid number of arguments in "wa_pair_jwt_require" directive/
