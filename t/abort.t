use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# A client that goes away removes its transfer (docs/architecture.md §3), and leaves nothing
# behind: no [alert], [crit] or [error] in the log, and the next pairing works.
#
# The slow location's backend (2 s) sits behind /recorder/, a proxy that logs
# "<uri> <status>" of each call it is sent to /backend-log: when the module drops the call
# as soon as its client hangs up, the proxy sees the module's connection close and logs
# nginx's 499 (client closed request) at once, instead of a 200 two seconds later.
# /slow-direct waits 1 s on the backend without the proxy. Requests carry a valid device
# token and Content-Type: application/json.

our $Config = <<'_EOC_';
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /slow {
        wa_pair;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_SERVER_PORT/recorder/v1/pair-code?delay=2;
    }
    location = /slow-direct {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?delay=1;
    }
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
    }
    location /recorder/ {
        access_log logs/backend.log wa_backend;
        proxy_pass http://unix:$TEST_NGINX_BACKEND_SOCK:/;
    }
    location = /backend-log {
        alias logs/backend.log;
    }
_EOC_

our $Ok = '{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}';
sub main::pair { "POST $_[0]\n{\"phone\":\"6281234567890\"}" }

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $Config) unless defined $block->config;
    $block->set_value(http_config => "    log_format wa_backend '\$request_uri \$status';\n")
        unless defined $block->http_config;
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'));
    # nothing alarming may reach the error log: the point of this file
    $block->set_value(no_error_log => with_patterns($block->no_error_log,
                          alarming(), '[error]'));
});

workers(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a client that hangs up mid-call cancels the backend call, and the next pairing works
--- request eval
[main::pair("/slow"), "GET /backend-log", main::pair("/devices/me/login-code")]
--- abort
--- timeout: 0.5
--- wait: 0.5
--- error_code eval
["", 200, 200]
--- response_body eval
["", "/recorder/v1/pair-code?delay=2 499\n", $main::Ok]



=== TEST 2: three clients hanging up one after another leave nothing behind
--- request eval
[main::pair("/slow"), main::pair("/slow"), main::pair("/slow"), "GET /backend-log",
 main::pair("/devices/me/login-code")]
--- abort
--- timeout: 0.5
--- wait: 0.3
--- error_code eval
["", "", "", 200, 200]
--- response_body eval
["", "", "", "/recorder/v1/pair-code?delay=2 499\n" x 3, $main::Ok]



=== TEST 3: a client that hangs up while its body is still arriving leaves nothing behind
--- more_headers eval
["Content-Length: 100", ""]
--- request eval
["POST /slow\n{\"phone\":", main::pair("/devices/me/login-code")]
--- abort
--- timeout: 0.5
--- error_code eval
["", 200]
--- response_body eval
["", $main::Ok]



=== TEST 4: the backend's answer to a call whose client has gone disturbs nothing
--- request eval
[main::pair("/slow-direct"), main::pair("/devices/me/login-code")]
--- abort
--- timeout: 0.5
--- wait: 1
--- error_code eval
["", 200]
--- response_body eval
["", $main::Ok]
