use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# The directives (docs/directives.md): every bad value is an
# [emerg] at start (as `nginx -t` would report it) that names its directive; every directive
# but wa_pair works at http, server and location level and is inherited downwards.
#
#   wa_pair;                        location only, no arguments
#   wa_pair_backend URL;            proxy_pass's forms: http[s]://unix:/abs/path.sock[:/uri],
#                                   http[s]://address-or-name[:port][/uri], an upstream{} name
#   wa_pair_connect_timeout TIME;   wa_pair_backend_timeout TIME;   wa_pair_jwt_leeway TIME;
#   wa_pair_code_timeout TIME;      1..86400 s
#   wa_pair_jwt_secret_file PATH;   must exist and not be empty
#   wa_pair_jwt_device_claim NAME;
#
# A request carries a valid device token and Content-Type: application/json unless a block
# says otherwise.

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'))
        unless defined $block->raw_request || defined $block->must_die;
    # nothing alarming may reach the error log, whatever the block proves
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: wa_pair_backend refuses a scheme other than http:// and https://
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend ftp://127.0.0.1:8443/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid value "ftp:\/\/127\.0\.0\.1:8443\/v1\/pair-code" in "wa_pair_backend": the URL must start with http:\/\/ or https:\/\//



=== TEST 2: a host name nginx cannot resolve stops nginx, as proxy_pass's does, naming it
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://wa-engine.invalid:8080/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*host not found in upstream "wa-engine\.invalid"/



=== TEST 3: wa_pair_backend refuses a relative socket path
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:run/backend.sock:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*\bwa_pair_backend\b/



=== TEST 4: wa_pair_backend refuses an empty socket path
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*\bwa_pair_backend\b/



=== TEST 5: wa_pair_backend refuses something that is not a URL
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend /run/wa-pair/backend.sock;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*\bwa_pair_backend\b/



=== TEST 6: wa_pair_backend refuses a port out of range
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://127.0.0.1:70000/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*\bwa_pair_backend\b/



=== TEST 7: a missing secret file stops nginx, and the path is named
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_WA_DIR/no-such-secret.key;
    }
--- must_die
--- error_log eval
[qr/\[emerg\].*\bwa_pair_jwt_secret_file\b/, qr/\[emerg\].*no-such-secret\.key/]



=== TEST 8: an empty secret file stops nginx
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE_EMPTY;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*\bwa_pair_jwt_secret_file\b/



=== TEST 9: a secret "file" that is a directory stops nginx
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_WA_DIR;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*\bwa_pair_jwt_secret_file\b/



=== TEST 10: wa_pair_backend_timeout must be a time
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_backend_timeout soon;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*\bwa_pair_backend_timeout\b/



=== TEST 11: wa_pair_connect_timeout must be a time
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_connect_timeout 5x;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*\bwa_pair_connect_timeout\b/



=== TEST 12: wa_pair_jwt_leeway must be a time
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_leeway forever;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*\bwa_pair_jwt_leeway\b/



=== TEST 13: wa_pair_code_timeout must be a time
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_code_timeout two-minutes;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*\bwa_pair_code_timeout\b/



=== TEST 14: wa_pair_code_timeout 0 is refused (a code must stay valid for some time)
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_code_timeout 0;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*\bwa_pair_code_timeout\b/



=== TEST 15: wa_pair_code_timeout over a day is refused
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_code_timeout 86401;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*\bwa_pair_code_timeout\b/



=== TEST 16: wa_pair_backend given twice in one block is a duplicate
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*\bwa_pair_backend\b.*duplicate/



=== TEST 17: wa_pair_jwt_secret_file given twice in one block is a duplicate
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE_WRONG;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*\bwa_pair_jwt_secret_file\b.*duplicate/



=== TEST 18: wa_pair_code_timeout given twice in one block is a duplicate
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_code_timeout 60;
        wa_pair_code_timeout 90;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*\bwa_pair_code_timeout\b.*duplicate/



=== TEST 19: wa_pair given twice in one location is a duplicate
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair".*duplicate/



=== TEST 20: wa_pair without any credential source stops nginx and says what is missing
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*\bwa_pair_jwt_secret_file\b/



=== TEST 21: wa_pair is a location directive
--- config
    wa_pair;
    location = /devices/me/login-code {
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair" directive is not allowed here/



=== TEST 22: wa_pair takes no argument
--- config
    location = /devices/me/login-code {
        wa_pair on;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid number of arguments in "wa_pair" directive/



=== TEST 23: a refused configuration does not log the secret it has read
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_backend ftp://127.0.0.1/v1/pair-code;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*\bwa_pair_backend\b/
--- no_error_log eval
[WaPairTest::secret()]



=== TEST 24: everything set at http level is inherited by a location with only wa_pair
--- http_config
    wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=HTTP1234&timeout=none;
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    wa_pair_code_timeout 300;
--- config
    location = /devices/me/login-code {
        wa_pair;
    }
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"HTTP-1234","timeout":300}}



=== TEST 25: everything set at server level is inherited by a location with only wa_pair
--- config
    wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=SERV1234&timeout=none;
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    wa_pair_code_timeout 240;
    location = /devices/me/login-code {
        wa_pair;
    }
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"SERV-1234","timeout":240}}



=== TEST 26: a location's own wa_pair_backend wins over the http level's
--- http_config
    wa_pair_backend http://unix:$TEST_NGINX_NO_BACKEND_SOCK:/v1/pair-code;
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=L1CA1234;
    }
    location = /inherits {
        wa_pair;
    }
--- request eval
["POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}", "POST /inherits\n{\"phone\":\"6281234567890\"}"]
--- error_code eval
[200, 503]
--- response_body eval
['{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"L1CA-1234","timeout":120}}',
 '{"status":false,"code":503,"message":"Service unavailable","error":"Pairing backend is unavailable"}']



=== TEST 27: a location's own wa_pair_backend wins over the server level's
--- config
    wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=SERV1234;
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /devices/me/login-code {
        wa_pair;
    }
    location = /elsewhere {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_NO_BACKEND_SOCK:/v1/pair-code;
    }
--- request eval
["POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}", "POST /elsewhere\n{\"phone\":\"6281234567890\"}"]
--- error_code eval
[200, 503]
--- response_body eval
['{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"SERV-1234","timeout":120}}',
 '{"status":false,"code":503,"message":"Service unavailable","error":"Pairing backend is unavailable"}']



=== TEST 28: a nested location inherits from its parent location
--- config
    location /devices/ {
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=NEST1234&timeout=none;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_code_timeout 45;
        location = /devices/me/login-code {
            wa_pair;
        }
    }
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"NEST-1234","timeout":45}}



=== TEST 29: a location's own secret file wins over the inherited one
--- http_config
    wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
--- config
    location = /devices/me/login-code {
        wa_pair;
    }
    location = /other-tenant {
        wa_pair;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE_WRONG;
    }
--- more_headers eval
["Authorization: Bearer " . WaPairTest::token(),
 "Authorization: Bearer " . WaPairTest::token(),
 "Authorization: Bearer " . WaPairTest::token(key => 'wrong')]
--- request eval
["POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}",
 "POST /other-tenant\n{\"phone\":\"6281234567890\"}",
 "POST /other-tenant\n{\"phone\":\"6281234567890\"}"]
--- error_code eval
[200, 401, 200]
--- response_body_like eval
['"status":true', '"error":"Invalid or expired JWT token"', '"status":true']



=== TEST 30: wa_pair_jwt_leeway and wa_pair_jwt_device_claim are inherited from the server level
--- config
    wa_pair_jwt_leeway 5m;
    wa_pair_jwt_device_claim session;
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- more_headers eval
["Authorization: Bearer " . WaPairTest::token(exp => time - 60, device_id => undef, claims => {session => 's-1'}),
 "Authorization: Bearer " . WaPairTest::token(device_id => 'd-1')]
--- request eval
[("POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}") x 2]
--- error_code eval
[200, 401]
--- response_body_like eval
['"status":true', '"error":"Invalid or expired JWT token"']



=== TEST 31: wa_pair_backend_timeout is inherited from the http level
--- http_config
    wa_pair_backend_timeout 300ms;
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?delay=2;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- timeout: 1.5
--- error_code: 504
--- response_body chomp
{"status":false,"code":504,"message":"Gateway timeout","error":"Pairing backend did not answer in time"}



=== TEST 32: the time directives take nginx's units, and a code may stay valid for a whole day
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234&timeout=none;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_connect_timeout 500ms;
        wa_pair_backend_timeout 1m30s;
        wa_pair_jwt_leeway 1m;
        wa_pair_code_timeout 1d;
    }
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":86400}}



=== TEST 33: the directives are harmless in a location without wa_pair
--- config
    location = /plain {
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_code_timeout 60;
        return 200 "plain\n";
    }
--- request
GET /plain
--- response_body
plain



=== TEST 34: two wa_pair locations with different backends, Unix and TCP, side by side
--- config
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /via-unix {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=SN1X1234;
    }
    location = /via-tcp {
        wa_pair;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/v1/pair-code?pair_code=TCP12345;
    }
--- request eval
["POST /via-unix\n{\"phone\":\"6281234567890\"}", "POST /via-tcp\n{\"phone\":\"6281234567890\"}"]
--- response_body_like eval
['"pair_code":"SN1X-1234"', '"pair_code":"TCP1-2345"']



=== TEST 35: wa_pair_authenticate without any credential source stops nginx and names the directive
--- config
    location = /edge {
        wa_pair_authenticate on;
        proxy_pass http://127.0.0.1:1/;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_authenticate" requires a credential source: "wa_pair_jwt_secret_file", "wa_pair_jwt_key_file", "wa_pair_jwt_jwks_url", "wa_pair_jwt_issuer" or "wa_pair_api_keys_file"/



=== TEST 36: wa_pair_authenticate on for a server whose credential source is in its locations: each location is checked, not the server
--- http_config
    server {
        listen unix:$TEST_NGINX_WA_DIR/edge-36.sock;
        wa_pair_authenticate on;
        location = /edge {
            wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
            proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/open;
        }
        location = /open-too {
            wa_pair_authenticate off;
            return 200 "open\n";
        }
    }
--- config
    location = /t {
        proxy_pass http://unix:$TEST_NGINX_WA_DIR/edge-36.sock:/edge;
    }
    location = /open {
        return 200 "open\n";
    }
--- request
POST /t
{"phone":"6281234567890"}
--- response_body
open



=== TEST 37: ... and a location of that server that inherits wa_pair_authenticate without a credential source stops nginx
--- http_config
    server {
        listen unix:$TEST_NGINX_WA_DIR/edge-37.sock;
        wa_pair_authenticate on;
        location = /edge {
            wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
            proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/open;
        }
        location = /open {
            return 200 "open\n";
        }
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_authenticate" requires a credential source/
