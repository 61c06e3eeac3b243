use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

write_jwt_keys();   # PEM files for the origin checks
WaPairTest::write_file("$WaPairTest::Dir/origin-api-keys.txt", WaPairTest::sha256_hex('origin-key-1') . " dev-1\n");

# The backend's directives at nginx -t, and their inheritance:
#
#   wa_pair_backend URL;                 variables allowed; the static parts are checked at
#                                        nginx -t with the variables replaced by a placeholder
#   wa_pair_backend_protocol native | origin | gowa | waha | wuzapi | evolution;
#   wa_pair_backend_header Name value;   repeatable; an HTTP token name, not a framing header;
#                                        a value without control characters; variables allowed
#   wa_pair_backend_buffer_size size;    1k..64m, default 16k
#
# Every bad value is an [emerg] naming its directive. The URL, the protocol and the headers
# are inherited separately from http to server to location; a location's own
# wa_pair_backend_header lines replace the inherited ones (as proxy_set_header's do). A URL
# without a path calls the path of the protocol in effect where it is used.

start_fakes(gowa => 'admin:s3cret', wuzapi => 'wuz-token-1');

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'))
        unless defined $block->must_die;
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

sub main::pair { "POST $_[0]\n{\"phone\":\"6281234567890\"}" }

no_shuffle();
run_tests();

__DATA__

=== TEST 1: wa_pair_backend_protocol refuses an unknown protocol
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK;
        wa_pair_backend_protocol GoWA;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid value "GoWA", it must be "native", "origin", "gowa", "waha", "wuzapi" or "evolution"/



=== TEST 2: wa_pair_backend_protocol is not repeated in one block
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK;
        wa_pair_backend_protocol waha;
        wa_pair_backend_protocol gowa;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_backend_protocol" directive is duplicate/



=== TEST 3: wa_pair_backend_header refuses a name that is not an HTTP token
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK;
        wa_pair_backend_header "X Api-Key" k;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid header name "X Api-Key" in "wa_pair_backend_header": the header name must be an HTTP token/



=== TEST 4: wa_pair_backend_header refuses the framing headers the module writes
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK;
        wa_pair_backend_header Content-Length 10;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid header name "Content-Length" in "wa_pair_backend_header": the header "Content-Length" is set by the module itself/



=== TEST 5: wa_pair_backend_header refuses a value with a line break, without repeating the value
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK;
        wa_pair_backend_header X-Api-Key "secret-part-one
X-Injected: 1";
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
[qr/\[emerg\].*the value of header "X-Api-Key" in "wa_pair_backend_header" has control characters/]
--- no_error_log
secret-part-one



=== TEST 6: wa_pair_backend_header takes a name and a value
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK;
        wa_pair_backend_header X-Api-Key;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid number of arguments in "wa_pair_backend_header" directive/



=== TEST 7: wa_pair_backend_buffer_size must be between 1k and 64m
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK;
        wa_pair_backend_buffer_size 512;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_backend_buffer_size" directive must be between 1k and 64m/



=== TEST 8: wa_pair_backend_buffer_size refuses what is not a size
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK;
        wa_pair_backend_buffer_size lots;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_backend_buffer_size" directive invalid value/



=== TEST 9: a URL with variables is still checked at nginx -t: a scheme other than http or https refused
--- config
    location = /p {
        wa_pair;
        wa_pair_backend ws://127.0.0.1:3000/api/$wa_pair_device_id/auth/request-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid value "ws:\/\/127\.0\.0\.1:3000\/api\/\$wa_pair_device_id\/auth\/request-code" in "wa_pair_backend": the URL must start with http:\/\/ or https:\/\//



=== TEST 10: a URL with variables is still checked at nginx -t: a host that cannot be a name refused
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://waha..internal:3000/api/$wa_pair_device_id/auth/request-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid value "http:\/\/waha\.\.internal:3000\/api\/\$wa_pair_device_id\/auth\/request-code" in "wa_pair_backend": /



=== TEST 11: a URL with variables is still checked at nginx -t: a relative socket path refused
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://unix:run/$wa_pair_device_id.sock;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*in "wa_pair_backend": the unix socket path must be absolute/



=== TEST 12: a URL with an unknown variable is refused by nginx itself
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://unix:/run/$no_such_variable.sock;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*unknown "no_such_variable" variable/



=== TEST 13: the URL (http level), the protocol (server level) and the path follow each other: the location calls GoWA's default path
--- http_config
    wa_pair_backend http://unix:$TEST_NGINX_FAKE_GOWA_SOCK;
--- config
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    wa_pair_backend_protocol gowa;
    wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0";
    location = /devices/me/login-code { wa_pair; }
    location = /fake-last { proxy_pass http://unix:$TEST_NGINX_FAKE_GOWA_SOCK:/_last; }
--- request eval
[main::pair("/devices/me/login-code"), "GET /fake-last"]
--- response_body_like eval
['"pair_code":"GWA2-CDE3"', '"target":"/app/login-with-code\?phone=6281234567890"']



=== TEST 14: a location's own wa_pair_backend_header lines replace the inherited ones
--- config
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    wa_pair_backend_protocol gowa;
    wa_pair_backend http://unix:$TEST_NGINX_FAKE_GOWA_SOCK;
    wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0";
    location = /inherits { wa_pair; }
    location = /replaces { wa_pair; wa_pair_backend_header X-Fake-Answer already_logged_in; }
--- request eval
[main::pair("/inherits"), main::pair("/replaces")]
--- error_code eval
[200, 502]
--- response_body_like eval
['"pair_code":"GWA2-CDE3"', '"error":"Invalid answer from the pairing backend"']



=== TEST 15: every backend directive works at http, server and location level together
--- http_config
    wa_pair_backend_buffer_size 1k;
    wa_pair_backend_header X-Fake-Answer success;
--- config
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=LEVE1234;
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol native;
    }
--- request eval
main::pair("/devices/me/login-code")
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"LEVE-1234","timeout":120}}



=== TEST 16: the README's wuzapi example: a map gives each device its own user token
--- http_config
    map $wa_pair_device_id $wuzapi_token {
        dev-42 wuz-token-1;
        default "";
    }
--- config
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol wuzapi;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WUZAPI_SOCK;
        wa_pair_backend_header token $wuzapi_token;
    }
--- more_headers eval
["Authorization: Bearer " . WaPairTest::token(device_id => 'dev-42'),
 "Authorization: Bearer " . WaPairTest::token(device_id => 'dev-7')]
--- request eval
[main::pair("/devices/me/login-code"), main::pair("/devices/me/login-code")]
--- error_code eval
[200, 502]
--- response_body_like eval
['"pair_code":"WZP1-2345"', '"error":"Invalid answer from the pairing backend"']



=== TEST 17: origin verifies the client's token itself (HMAC only): a location with API keys stops nginx, naming both directives
--- config
    location = /p {
        wa_pair;
        wa_pair_backend_protocol origin;
        wa_pair_backend http://unix:/run/origin.sock;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR/origin-api-keys.txt;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_backend_protocol origin" cannot be used with "wa_pair_api_keys_file": origin verifies the client's token itself and accepts only HMAC JWTs signed with its own secret/



=== TEST 18: ... and so does one with RSA (or EC, Ed25519) keys
--- config
    location = /p {
        wa_pair;
        wa_pair_backend_protocol origin;
        wa_pair_backend http://unix:/run/origin.sock;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_RSA_PEM;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_backend_protocol origin" cannot be used with the RSA keys of "wa_pair_jwt_key_file"/



=== TEST 19: origin with its HMAC secret, inherited from the server level, starts
--- config
    wa_pair_backend_protocol origin;
    location = /p {
        wa_pair;
        wa_pair_backend http://unix:/run/origin.sock;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
    location = /other {
        wa_pair_backend_protocol native;
        wa_pair;
        wa_pair_backend http://unix:/run/native.sock;
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR/origin-api-keys.txt;
    }
--- request
GET /p
--- error_code: 405
