use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use WaPairIdp;                 # an identity provider (tools/fake_idp.py) for the key fetch
use Test::Nginx::Socket 'no_plan';

# The non-blocking rule (docs/architecture.md §3): nothing in a worker waits for the pairing
# backend. The proof: with ONE worker, while a pairing call waits 2 s on the backend
# (sent by a second client that --- init forks, and seen to have reached the backend), the
# block's own request is answered within --- timeout: 1; then, after --- wait, the second
# client's answer (stored in <test dir>/slow.out, served by /slow-result) shows that the
# slow call completed normally. The same holds for a fetch of keys from an identity provider
# that takes 3 s to answer (TEST 3, 4).

WaPairTest::write_jwt_keys();
start_idp();
idp_route('/slow/jwks.json', jwks_of('rsa'), delay => 3);

our $JwksConfig = <<'_EOC_';
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/slow/jwks.json;
    }
    location = /fast {
        return 200 "fast\n";
    }
_EOC_

sub wait_for {
    my ($done, $what) = @_;
    my $deadline = Time::HiRes::time() + 10;
    until ($done->()) {
        die "no $what within 10 s\n" if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.05);
    }
}

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



=== TEST 3: requests are answered at once while the only worker fetches keys from a provider that takes 3 s
--- http_config
    wa_pair_jwt_jwks_trusted_certificate $TEST_NGINX_TLS_CA;
--- config eval
$main::JwksConfig
--- init
main::wait_for(sub { WaPairIdp::idp_hits('/slow/jwks.json') > 0 }, 'the key fetch to start');
--- request eval
["GET /fast", "POST /devices/me/login-code\n{\"phone\":\"6281234567891\"}"]
--- timeout: 1
--- response_body_like eval
["^fast\n\$", '^\{"status":true,"code":200,"message":"Pairing code generated successfully","data":\{"pair_code":"ABCD-1234","timeout":120\}\}$']



=== TEST 4: the fetch completes normally: a token of the fetched key is accepted
--- http_config
    wa_pair_jwt_jwks_trusted_certificate $TEST_NGINX_TLS_CA;
--- config eval
$main::JwksConfig
--- init
main::wait_for(sub { WaPairTest::slurp($Test::Nginx::Util::ErrLogFile) =~ /wa_pair: 1 keys from/ }, 'the keys');
--- more_headers eval
"Authorization: Bearer " . WaPairTest::token(alg => 'RS256', kid => 'rsa-1')
--- request eval
"POST /devices/me/login-code\n{\"phone\":\"6281234567891\"}"
--- response_body_like eval
'^\{"status":true,"code":200,"message":"Pairing code generated successfully","data":\{"pair_code":"ABCD-1234","timeout":120\}\}$'
