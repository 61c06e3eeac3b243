use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use WaPairIdp;                 # the identity provider: tools/fake_idp.py over HTTPS
use Test::Nginx::Socket 'no_plan';

# Keys from identity providers: wa_pair_jwt_jwks_url URL [refresh=time] and wa_pair_jwt_issuer
# URL (OpenID discovery; the token's iss must be that URL), fetched by one worker of the host
# with libcurl, kept in the shared zone "wa_pair_jwks" for every worker and across reloads.
# An unknown kid asks for one refresh per URL per 30 s; a failed fetch keeps the last keys and
# says why at [warn]; before any key set arrives, JWTs are 503 "Authentication keys are not
# available yet" with Retry-After. Settings of the http level: wa_pair_jwt_jwks_redirect (off:
# a redirect to another host is a failure), wa_pair_jwt_jwks_trusted_certificate (else the
# system's CAs), wa_pair_jwt_jwks_timeout (10s).
#
# The provider is tools/fake_idp.py over HTTPS with the test PKI's server certificate (its own
# test CA), answering what a block puts at a path and counting the GETs of each path; each
# block uses paths of its own. Tokens are minted by Crypt::JWT (WaPairTest::token) and PyJWT
# (WaPairIdp::pyjwt_token) with key pairs made by CryptX: none by the module. nginx runs with a
# master process and 2 workers; blocks without --- config keep the nginx of the block before.
# A request carries Content-Type: application/json.

WaPairTest::write_jwt_keys();
start_idp();
our $Idp = "https://127.0.0.1:$ENV{TEST_NGINX_IDP_PORT}";
our $Json = JSON::PP->new->canonical;

idp_route("/b$_/jwks.json", jwks_of('rsa', 'ec256', 'ed25519')) for 1, 5, 6, 7, 8, 9, 15, 17;
idp_route('/b4/jwks.json', jwks_of('rsa'));
idp_route('/b9/jwks.json', jwks_of('rsa'), delay => 3);
idp_route('/b16/jwks.json', jwks_of('ec256'));
idp_route('/issuer/.well-known/openid-configuration',
          $Json->encode({ issuer => "$Idp/issuer", jwks_uri => "$Idp/issuer/keys" }));
idp_route('/issuer/keys', jwks_of('ed25519'));
idp_route('/bad-issuer/.well-known/openid-configuration',
          $Json->encode({ issuer => 'https://id.example', jwks_uri => "$Idp/issuer/keys" }));
idp_route('/b12/real.json', jwks_of('rsa'));
idp_route('/b12/same.json', '', status => 302, location => "$Idp/b12/real.json");
idp_route('/b12/other.json', '', status => 302,
          location => "https://localhost:$ENV{TEST_NGINX_IDP_PORT}/b12/real.json");

master_on();
workers(2);
no_shuffle();
check_accum_error_log();

our $Ok = '{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}';
our $BadJwt = '{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"}';
our $NotYet = '{"status":false,"code":503,"message":"Service unavailable","error":"Authentication keys are not available yet"}';
our $Post = "POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}";

sub bearer   { 'Authorization: Bearer ' . WaPairTest::token(@_) }
sub pybearer { 'Authorization: Bearer ' . pyjwt_token(@_) }
sub random_kid { 'kid-' . WaPairTest::random_hex(8) }

# The error log's lines matching $re so far.
sub log_lines {
    my ($re) = @_;
    no warnings 'once';
    my $log = WaPairTest::slurp($Test::Nginx::Util::ErrLogFile);
    return scalar(() = $log =~ /$re/g);
}

# Waits until the error log has $n lines matching $re (croaks after 15 s).
sub wait_log {
    my ($re, $n) = @_;
    $n ||= 1;
    my $deadline = Time::HiRes::time() + 15;
    until (log_lines($re) >= $n) {
        Carp::croak("no $n error log lines matching $re within 15 s") if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.05);
    }
}

# Waits until the $n-th key set from $path has arrived.
sub wait_keys {
    my ($path, $n) = @_;
    wait_log(qr/\[notice\].*wa_pair: \d+ keys from "\Q$Idp$path\E"/, $n);
}

# Sends a token with a kid the keys do not have (asking for a refresh); its answer must be 401.
# The scrape of /metrics once `$re` matches it (within 15 s).
sub scrape_until {
    my ($re) = @_;
    my $deadline = Time::HiRes::time() + 15;
    while (1) {
        my $text = WaPairTest::exchange("GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        return $text if $text =~ $re;
        Carp::croak("no scrape matching $re within 15 s:\n$text") if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.1);
    }
}

sub unknown_kid {
    my $answer = WaPairTest::post_once('/devices/me/login-code', bearer(alg => 'RS256', kid => random_kid()));
    Carp::croak("an unknown kid was answered: $answer") unless $answer =~ m{^HTTP/1\.1 401 };
}

our $Helpers = <<'_EOC_';
    location = /plain {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    if (defined $block->config) {
        $block->set_value(config => $block->config . $Helpers);
        $block->set_value(http_config => "    wa_pair_jwt_jwks_trusted_certificate \$TEST_NGINX_TLS_CA;\n")
            unless defined $block->http_config;
    }
    $block->set_value(more_headers => with_headers($block->more_headers, 'Content-Type: application/json'))
        unless defined $block->must_die;
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()))
        unless defined $block->must_die;
});

run_tests();

__DATA__

=== TEST 1: keys from a JWKS URL: RS256, ES256 and EdDSA tokens by Crypt::JWT and PyJWT are accepted
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/b1/jwks.json;
        add_header X-Auth $wa_pair_auth always;
    }
--- init
main::wait_keys('/b1/jwks.json');
--- more_headers eval
[main::bearer(alg => 'RS256', kid => 'rsa-1'), main::bearer(alg => 'ES256', kid => 'ec-256'),
 main::bearer(alg => 'EdDSA', kid => 'ed-1'), main::pybearer(alg => 'RS256', kid => 'rsa-1'),
 main::pybearer(alg => 'ES256', kid => 'ec-256'), main::pybearer(alg => 'EdDSA', kid => 'ed-1'),
 main::bearer(alg => 'RS256')]
--- request eval
[($main::Post) x 7]
--- response_headers eval
[('X-Auth: jwt') x 7]
--- response_body eval
[($main::Ok) x 7]
--- error_log eval
qr/\[notice\].*wa_pair: 3 keys from "https:\/\/127\.0\.0\.1:\d+\/b1\/jwks\.json", next refresh in 3600 s/
--- no_error_log
[warn]



=== TEST 2: the two workers made one fetch, and a token the keys do not verify is 401
--- init
Time::HiRes::sleep(1.5);   # each worker has looked at the zone since
Test::More::is(WaPairIdp::idp_hits('/b1/jwks.json'), 1, 'one fetch for 2 workers');
--- more_headers eval
[main::bearer(alg => 'RS256', kid => 'rsa-1', key => 'other'), main::bearer(alg => 'HS256'),
 main::bearer(alg => 'ES256', kid => 'ec-256', device_id => undef)]
--- request eval
[($main::Post) x 3]
--- error_code eval
[401, 401, 401]
--- response_body eval
[($main::BadJwt) x 3]



=== TEST 3: a flood of 1,000 tokens with random kids costs the provider one refresh
--- init
main::unknown_kid() for 1 .. 1000;
main::wait_log(qr/wa_pair: keys from "\Q$main::Idp\E\/b1\/jwks\.json" unchanged/);
Time::HiRes::sleep(1.5);
Test::More::is(WaPairIdp::idp_hits('/b1/jwks.json'), 2, 'one refresh for 1,000 unknown kids');
--- more_headers eval
main::bearer(alg => 'ES256', kid => 'ec-256')
--- request eval
$main::Post
--- response_body eval
$main::Ok
--- error_log eval
qr/wa_pair: keys from "https:\/\/127\.0\.0\.1:\d+\/b1\/jwks\.json" unchanged, next refresh in 3600 s/



=== TEST 4: rotation: a token of a new kid is refused once, and its refresh brings the new key
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/b4/jwks.json;
    }
--- init
main::wait_keys('/b4/jwks.json');
WaPairIdp::idp_route('/b4/jwks.json', WaPairIdp::jwks_of('rsa', 'rsa_other'));
my $new = main::bearer(alg => 'RS256', kid => 'rsa-1-other', key => 'other');
Test::More::like(WaPairTest::post_once('/devices/me/login-code', $new), qr{^HTTP/1\.1 401 },
                 'the new kid before the refresh');
main::wait_keys('/b4/jwks.json', 2);
--- more_headers eval
[main::bearer(alg => 'RS256', kid => 'rsa-1-other', key => 'other'), main::bearer(alg => 'RS256', kid => 'rsa-1')]
--- request eval
[($main::Post) x 2]
--- response_body eval
[($main::Ok) x 2]
--- error_log eval
qr/\[notice\].*wa_pair: 2 keys from "https:\/\/127\.0\.0\.1:\d+\/b4\/jwks\.json"/



=== TEST 5: the provider down: the refresh fails, the last keys stay, the log says why
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/b5/jwks.json;
    }
--- init
main::wait_keys('/b5/jwks.json');
WaPairIdp::stop_idp();
main::unknown_kid();
main::wait_log(qr/\[warn\].*fetching keys from/);
WaPairIdp::start_idp();
--- more_headers eval
main::bearer(alg => 'EdDSA', kid => 'ed-1')
--- request eval
$main::Post
--- response_body eval
$main::Ok
--- error_log eval
qr/\[warn\].*wa_pair: fetching keys from "https:\/\/127\.0\.0\.1:\d+\/b5\/jwks\.json" failed: .*(?:Connection refused|connect).*; keeping the keys fetched \d+ s ago, next try in 60 s/



=== TEST 6: a malformed JWK Set keeps the last keys
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/b6/jwks.json;
    }
--- init
main::wait_keys('/b6/jwks.json');
WaPairIdp::idp_route('/b6/jwks.json', '{"keys":[{"kty":"RSA","n":');
main::unknown_kid();
main::wait_log(qr/\[warn\].*fetching keys from/);
--- more_headers eval
main::bearer(alg => 'RS256', kid => 'rsa-1')
--- request eval
$main::Post
--- response_body eval
$main::Ok
--- error_log eval
qr/\[warn\].*wa_pair: fetching keys from "https:\/\/127\.0\.0\.1:\d+\/b6\/jwks\.json" failed: [^;]*JSON[^;]*; keeping the keys fetched/



=== TEST 7: a 2 MB JWK Set keeps the last keys
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/b7/jwks.json;
    }
--- init
main::wait_keys('/b7/jwks.json');
WaPairIdp::idp_route('/b7/jwks.json', WaPairIdp::jwks_of('rsa', 'rsa_other'), pad => 2 * 1024 * 1024);
main::unknown_kid();
main::wait_log(qr/\[warn\].*fetching keys from/);
--- more_headers eval
main::bearer(alg => 'ES256', kid => 'ec-256')
--- request eval
$main::Post
--- response_body eval
$main::Ok
--- error_log eval
qr/\[warn\].*wa_pair: fetching keys from "https:\/\/127\.0\.0\.1:\d+\/b7\/jwks\.json" failed: answer larger than 1048576 bytes; keeping the keys fetched/



=== TEST 8: a provider whose certificate the trusted CA did not sign: no keys, 503 with Retry-After, and why
--- http_config
    wa_pair_jwt_jwks_trusted_certificate $TEST_NGINX_TLS_WRONG_CA;
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/b8/jwks.json;
    }
--- init
main::wait_log(qr/\[warn\].*fetching keys from/);
--- more_headers eval
main::bearer(alg => 'RS256', kid => 'rsa-1')
--- request eval
$main::Post
--- error_code: 503
--- response_headers_like
Retry-After: [1-5]
--- response_body eval
$main::NotYet
--- error_log eval
[qr/\[warn\].*wa_pair: fetching keys from "https:\/\/127\.0\.0\.1:\d+\/b8\/jwks\.json" failed: SSL certificate problem: unable to get local issuer certificate; no keys from it yet, next try in 5 s/,
 qr/\[error\].*wa_pair: no keys from "https:\/\/127\.0\.0\.1:\d+\/b8\/jwks\.json" yet \(SSL certificate problem: unable to get local issuer certificate\): JWTs are answered 503/]



=== TEST 9: before the first key set arrives: 503 with Retry-After; API keys and HMAC secrets of the location still work
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/b9/jwks.json;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- more_headers eval
[main::bearer(alg => 'RS256', kid => 'rsa-1'), main::bearer(alg => 'HS256'), main::bearer(alg => 'HS256', key => 'wrong')]
--- request eval
[($main::Post) x 3]
--- error_code eval
[503, 200, 401]
--- response_body eval
[$main::NotYet, $main::Ok, $main::BadJwt]
--- error_log eval
qr/\[error\].*wa_pair: no keys from "https:\/\/127\.0\.0\.1:\d+\/b9\/jwks\.json" yet \(the first fetch has not finished\)/



=== TEST 10: ... and once it has arrived, the same token is accepted
--- init
main::wait_keys('/b9/jwks.json');
--- more_headers eval
main::bearer(alg => 'RS256', kid => 'rsa-1')
--- request eval
$main::Post
--- response_body eval
$main::Ok



=== TEST 11: wa_pair_jwt_issuer: the keys come from the jwks_uri of the issuer's OpenID configuration; iss must be the issuer
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_issuer https://127.0.0.1:$TEST_NGINX_IDP_PORT/issuer;
    }
--- init
main::wait_keys('/issuer');
--- more_headers eval
[main::bearer(alg => 'EdDSA', kid => 'ed-1', claims => { iss => "$main::Idp/issuer" }),
 main::pybearer(alg => 'EdDSA', kid => 'ed-1', claims => { iss => "$main::Idp/issuer" }),
 main::bearer(alg => 'EdDSA', kid => 'ed-1', claims => { iss => "$main::Idp/issuer/" }),
 main::bearer(alg => 'EdDSA', kid => 'ed-1', claims => { iss => 'https://id.example' }),
 main::bearer(alg => 'EdDSA', kid => 'ed-1')]
--- request eval
[($main::Post) x 5]
--- error_code eval
[200, 200, 401, 401, 401]
--- response_body eval
[$main::Ok, $main::Ok, ($main::BadJwt) x 3]
--- error_log eval
qr/\[notice\].*wa_pair: 1 keys from "https:\/\/127\.0\.0\.1:\d+\/issuer"/



=== TEST 12: an OpenID configuration that names another issuer is refused: no keys, 503, and why
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_issuer https://127.0.0.1:$TEST_NGINX_IDP_PORT/bad-issuer;
    }
--- init
main::wait_log(qr/\[warn\].*fetching keys from/);
--- more_headers eval
main::bearer(alg => 'EdDSA', kid => 'ed-1', claims => { iss => "$main::Idp/bad-issuer" })
--- request eval
$main::Post
--- error_code: 503
--- response_body eval
$main::NotYet
--- error_log eval
qr/\[warn\].*wa_pair: fetching keys from "https:\/\/127\.0\.0\.1:\d+\/bad-issuer" failed: its OpenID configuration: .*issuer/



=== TEST 13: a redirect to the same host is followed; one to another host is a failure by default
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/b12/same.json;
    }
    location = /other {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/b12/other.json;
    }
--- init
main::wait_keys('/b12/same.json');
main::wait_log(qr/\[warn\].*fetching keys from/);
--- more_headers eval
[(main::bearer(alg => 'RS256', kid => 'rsa-1')) x 2]
--- request eval
[$main::Post, "POST /other\n{\"phone\":\"6281234567890\"}"]
--- error_code eval
[200, 503]
--- error_log eval
qr/\[warn\].*wa_pair: fetching keys from "https:\/\/127\.0\.0\.1:\d+\/b12\/other\.json" failed: redirected to another host, "localhost" \("wa_pair_jwt_jwks_redirect on" allows it\)/



=== TEST 14: wa_pair_jwt_jwks_redirect on follows a redirect to another host
--- http_config
    wa_pair_jwt_jwks_trusted_certificate $TEST_NGINX_TLS_CA;
    wa_pair_jwt_jwks_redirect on;
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/b12/other.json;
    }
--- init
main::wait_keys('/b12/other.json');
--- more_headers eval
main::bearer(alg => 'RS256', kid => 'rsa-1')
--- request eval
$main::Post
--- response_body eval
$main::Ok
--- no_error_log
[warn]



=== TEST 15: a reload keeps the keys: the new workers verify at once and fetch nothing before the refresh is due
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/b15/jwks.json refresh=10m;
    }
--- init
main::wait_keys('/b15/jwks.json');
WaPairTest::reload_nginx();
Time::HiRes::sleep(1.5);
Test::More::is(WaPairIdp::idp_hits('/b15/jwks.json'), 1, 'no fetch after the reload');
--- more_headers eval
main::bearer(alg => 'RS256', kid => 'rsa-1')
--- request eval
$main::Post
--- response_body eval
$main::Ok
--- no_error_log
no keys from



=== TEST 16: file keys and fetched keys verify side by side in one location
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_RSA_PEM;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/b16/jwks.json;
    }
--- init
main::wait_keys('/b16/jwks.json');
--- more_headers eval
[main::bearer(alg => 'RS256'), main::bearer(alg => 'ES256', kid => 'ec-256'), main::bearer(alg => 'EdDSA', kid => 'ed-1')]
--- request eval
[($main::Post) x 3]
--- error_code eval
[200, 200, 401]
--- response_body eval
[$main::Ok, $main::Ok, $main::BadJwt]



=== TEST 17: wa_pair_authenticate verifies with fetched keys too
--- config
    location = /edge {
        wa_pair_authenticate on;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/b1/jwks.json;
        proxy_set_header X-Device $wa_pair_device_id;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /echo {
        return 200 "device $http_x_device\n";
    }
--- init
main::wait_keys('/b1/jwks.json');
--- more_headers eval
[main::bearer(alg => 'ES256', kid => 'ec-256', device_id => 'dev-edge'), main::bearer(alg => 'ES256', kid => 'ec-256', key => 'other')]
--- request eval
["GET /edge", "GET /edge"]
--- error_code eval
[200, 401]
--- response_body eval
["device dev-edge\n", $main::BadJwt]



=== TEST 17b: wa_pair_metrics: each key source's last good fetch and its failures, by its URL
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/b17/jwks.json?tenant=t1;
    }
    location = /metrics { wa_pair_metrics; }
--- init
my $url = qr{url="https://127\.0\.0\.1:\d+/b17/jwks\.json"};
main::scrape_until(qr/wa_pair_jwks_last_success_timestamp_seconds\{$url\} [1-9]\d{9}\n/);
main::scrape_until(qr/wa_pair_jwks_failures_total\{$url\} 0\n/);
WaPairIdp::stop_idp();
main::unknown_kid();
main::scrape_until(qr/wa_pair_jwks_failures_total\{$url\} 1\n/);
WaPairIdp::start_idp();
--- request
GET /metrics
--- response_body_like eval
qr{\nwa_pair_jwks_last_success_timestamp_seconds\{url="https://127\.0\.0\.1:\d+/b17/jwks\.json"\} [1-9]\d{9}\n(?s:.*)\nwa_pair_jwks_failures_total\{url="https://127\.0\.0\.1:\d+/b17/jwks\.json"\} 1\n}
--- response_body_unlike: tenant



=== TEST 18: nginx -t: a key URL in clear to a non-loopback host is refused
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_jwks_url http://id.example/jwks.json;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid URL "http:\/\/id\.example\/jwks\.json" in "wa_pair_jwt_jwks_url": /



=== TEST 19: nginx -t: refresh= below 1m is refused
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/b1/jwks.json refresh=10s;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid value "refresh=10s" in "wa_pair_jwt_jwks_url": refresh= takes a time from 1m to 1d/



=== TEST 20: nginx -t: the fetch settings belong to the http level
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/b1/jwks.json;
        wa_pair_jwt_jwks_timeout 5s;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_jwt_jwks_timeout" directive is not allowed here/



=== TEST 21: nginx -t: a trusted certificate file without a certificate is refused
--- http_config
    wa_pair_jwt_jwks_trusted_certificate $TEST_NGINX_JWT_SECRET_FILE;
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/b1/jwks.json;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_jwt_jwks_trusted_certificate" file ".*jwt\.key" has no PEM certificate/



=== TEST 22: nginx -t: origin verifies tokens itself and cannot take fetched keys
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_backend_protocol origin;
        wa_pair_jwt_jwks_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/b1/jwks.json;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_backend_protocol origin" cannot be used with keys from "wa_pair_jwt_jwks_url" or "wa_pair_jwt_issuer"/



=== TEST 23: nginx -t: an issuer with a query is refused
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_issuer https://id.example/realm?x=1;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid URL "https:\/\/id\.example\/realm\?x=1" in "wa_pair_jwt_issuer": an issuer has no query/
