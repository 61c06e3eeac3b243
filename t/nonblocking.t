use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# The non-blocking rule (DESIGN.md section 7): nothing in a worker waits for the pairing
# backend. The proof: with ONE worker, while a pairing call waits 2 s on the backend
# (sent by a second client that --- init forks, and seen to have reached the backend), the
# block's own request is answered within --- timeout: 1; then, after --- wait, the second
# client's answer (stored in <test dir>/slow.out, served by /slow-result) shows that the
# slow call completed normally.

our $Config = <<'_EOC_';
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /slow {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?delay=2&pair_code=WA1T2SEC;
    }
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
    }
    location = /fast {
        return 200 "fast\n";
    }
    location = /slow-result {
        alias $TEST_NGINX_WA_DIR/slow.out;
    }
_EOC_

our $StartSlowPairing = <<'_EOC_';
WaPairTest::backend_reset();
WaPairTest::background_request('slow', "POST /slow HTTP/1.1\nHost: localhost\n"
    . WaPairTest::auth_header() . "\nContent-Type: application/json\nConnection: close\n\n"
    . '{"phone":"6281234567890"}');
WaPairTest::wait_backend_requests(1);   # the slow call is now waiting on the backend
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $Config) unless defined $block->config;
    $block->set_value(init => $StartSlowPairing) unless defined $block->init;
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'));
    # nothing alarming may reach the error log, whatever the block proves
    $block->set_value(no_error_log => with_patterns($block->no_error_log,
                          alarming(), '[error]'));
});

workers(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: another location is served at once while a pairing call waits 2 s on the backend
--- request eval
["GET /fast", "GET /slow-result"]
--- timeout: 1
--- wait: 2.5
--- response_body_like eval
["^fast\n\$",
 '^HTTP/1\.1 200 OK\r\n.*\r\n\r\n\{"status":true,"code":200,"message":"Pairing code generated successfully","data":\{"pair_code":"WA1T-2SEC","timeout":120\}\}$']



=== TEST 2: another pairing call is answered at once while one waits 2 s on the backend
--- request eval
["POST /devices/me/login-code\n{\"phone\":\"6281234567891\"}", "GET /slow-result"]
--- timeout: 1
--- wait: 2.5
--- response_body_like eval
['^\{"status":true,"code":200,"message":"Pairing code generated successfully","data":\{"pair_code":"ABCD-1234","timeout":120\}\}$',
 '^HTTP/1\.1 200 OK\r\n.*\r\n\r\n\{"status":true,"code":200,"message":"Pairing code generated successfully","data":\{"pair_code":"WA1T-2SEC","timeout":120\}\}$']
