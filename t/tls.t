use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# https:// pairing backends: the wa_pair_ssl_* directives, with the semantics of proxy_ssl_* of
# the same suffix except wa_pair_ssl_verify, on by default (the system's CAs when no
# wa_pair_ssl_trusted_certificate is given):
#
#   wa_pair_ssl_verify on|off;                  wa_pair_ssl_trusted_certificate FILE;
#   wa_pair_ssl_verify_depth N;  (1)            wa_pair_ssl_server_name on|off;  (off)
#   wa_pair_ssl_name NAME;  (the host of wa_pair_backend: an address, or an upstream{} name)
#   wa_pair_ssl_certificate FILE;  wa_pair_ssl_certificate_key FILE;   (mTLS)
#   wa_pair_ssl_protocols ...;  (TLSv1.2 TLSv1.3)   wa_pair_ssl_session_reuse on|off;  (on)
#
# Any TLS failure is the 502 envelope ("Invalid answer from the pairing backend"), nginx's own
# SSL line at [error] (nginx 1.22 writes one at [crit]: TEST 11), the module's "wa_pair:" line
# at [error], and the engine never gets the request. The name checked is a DNS name, as
# proxy_ssl_verify checks it: an address in wa_pair_backend matches no certificate (TEST 5),
# so the blocks name the engine with wa_pair_ssl_name or an upstream{} block.
#
# The engines are tools/dev_backend.py over TLS with the test PKI of WaPairTest::make_test_pki()
# (a test CA; server.pem for DNS:localhost, DNS:engine.test, IP:127.0.0.1; other-name.pem for
# DNS:other.test; client certificates of the test CA and of an unrelated "wrong" CA). Each
# engine a block configures has its counters zeroed before the block; GET /stats/<engine>
# (nginx's proxy, no TLS session kept) shows the pairing requests it got, and the SNI their
# handshakes sent ("-" for none).
#
# Within one nginx, locations that call the same address share its peer and so its TLS
# session (as proxy_pass does): a session made under one location's settings is resumed under
# another's, verification and client certificate included. A block therefore never points two
# locations with different wa_pair_ssl_* settings at the same engine.
#
# A request carries a valid device token and Content-Type: application/json.

our %Engines = (
    TLS       => start_dev_backend(name => 'tls', tls => 1),
    TLS2      => start_dev_backend(name => 'tls2', tls => 1),
    TLS_OTHER => start_dev_backend(name => 'tls-other', cert => 'other-name'),
    MTLS      => start_dev_backend(name => 'mtls', tls => 1, client_ca => 1),
    TLS12     => start_dev_backend(name => 'tls12', tls => 1, tls_max => '1.2'),
);
$ENV{"TEST_NGINX_${_}_PORT"} = $Engines{$_} for keys %Engines;

our $Helpers = <<'_EOC_';
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /stats/tls       { proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/_stats;       proxy_ssl_session_reuse off; }
    location = /stats/tls2      { proxy_pass https://127.0.0.1:$TEST_NGINX_TLS2_PORT/_stats;      proxy_ssl_session_reuse off; }
    location = /stats/tls-other { proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_OTHER_PORT/_stats; proxy_ssl_session_reuse off; }
    location = /stats/tls12     { proxy_pass https://127.0.0.1:$TEST_NGINX_TLS12_PORT/_stats;     proxy_ssl_session_reuse off; }
    location = /stats/mtls {
        proxy_pass https://127.0.0.1:$TEST_NGINX_MTLS_PORT/_stats;
        proxy_ssl_session_reuse off;
        proxy_ssl_certificate $TEST_NGINX_TLS_CLIENT_CERT;
        proxy_ssl_certificate_key $TEST_NGINX_TLS_CLIENT_KEY;
    }
_EOC_

our $Paired = '{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"TLS1-PA1R","timeout":120}}';
our $BadAnswer = '{"status":false,"code":502,"message":"Bad gateway","error":"Invalid answer from the pairing backend"}';
our $Untouched = '{"requests":0,"by_path":{},"sni":{}}';
sub main::paired_once {   # an engine's stats after one pairing with the block's code
    my ($sni) = @_;
    return '{"requests":1,"by_path":{"/v1/pair-code?pair_code=TLS1PA1R":1},"sni":{"' . $sni . '":1}}';
}
sub main::pair { "POST $_[0]\n{\"phone\":\"6281234567890\"}" }
our $ModuleLine = qr/\[error\].*\bwa_pair: /;

add_block_preprocessor(sub {
    my $block = shift;
    my $conf = ($block->http_config // '') . ($block->config // '');
    my @used = grep { $conf =~ /\$TEST_NGINX_${_}_PORT\b/ } sort keys %main::Engines;
    $block->set_value(init => join '', map { "WaPairTest::backend_reset($main::Engines{$_});\n" } @used)
        if @used && !defined $block->init;
    $block->set_value(config => $block->config . $Helpers);
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'))
        unless defined $block->must_die;
    # nothing alarming may reach the error log, whatever the block proves (a block whose own
    # --- no_error_log has a [crit] pattern narrows it: a [crit] line nginx itself writes)
    my $own = $block->no_error_log;
    my $narrowed = grep { "$_" =~ /\[crit/ } ref $own eq 'ARRAY' ? @$own : ();
    $block->set_value(no_error_log => with_patterns($own, '[alert]', $narrowed ? () : '[crit]'));
});

workers(1);
check_accum_error_log();   # --- error_log: anywhere in the block's log, whichever request wrote it
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a verified https engine answers 200 with the code it sent (the test CA trusted, the name checked)
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_name localhost;
    }
--- request eval
[main::pair("/pair"), "GET /stats/tls"]
--- error_code eval
[200, 200]
--- response_body eval
[$main::Paired, main::paired_once("-")]
--- no_error_log
[error]



=== TEST 2: wa_pair_ssl_verify is on by default: without wa_pair_ssl_trusted_certificate only the system's CAs are trusted, and the test CA is not one of them
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_name localhost;
    }
--- request eval
[main::pair("/pair"), "GET /stats/tls"]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Untouched]
--- error_log eval
[qr/\[error\].*upstream SSL certificate verify error: \(\d+:/, $main::ModuleLine]



=== TEST 3: an engine whose certificate another CA signed is refused: the 502 envelope, logged, and the request never reaches it
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_WRONG_CA;
        wa_pair_ssl_name localhost;
    }
--- request eval
[main::pair("/pair"), "GET /stats/tls"]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Untouched]
--- error_log eval
[qr/\[error\].*upstream SSL certificate verify error: \(\d+:/, $main::ModuleLine]



=== TEST 4: wa_pair_ssl_verify off accepts the engine whatever signed its certificate (the name is not checked either)
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_verify off;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_WRONG_CA;
    }
--- request eval
[main::pair("/pair"), "GET /stats/tls"]
--- error_code eval
[200, 200]
--- response_body eval
[$main::Paired, main::paired_once("-")]
--- no_error_log
[error]



=== TEST 5: the name checked is the host of wa_pair_backend; an address is not a name: https://127.0.0.1 is refused even though the certificate has IP:127.0.0.1 (as proxy_ssl_verify does)
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
    }
--- request eval
[main::pair("/pair"), "GET /stats/tls"]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Untouched]
--- error_log eval
[qr/\[error\].*upstream SSL certificate does not match "127\.0\.0\.1"/, $main::ModuleLine]



=== TEST 6: the name of an upstream{} block is the name checked, and with wa_pair_ssl_server_name on the one sent as SNI
--- http_config
    upstream engine.test {
        server 127.0.0.1:$TEST_NGINX_TLS_PORT;
    }
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://engine.test/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_server_name on;
    }
--- request eval
[main::pair("/pair"), "GET /stats/tls"]
--- error_code eval
[200, 200]
--- response_body eval
[$main::Paired, main::paired_once("engine.test")]
--- no_error_log
[error]



=== TEST 7: a certificate the test CA signed for another name (DNS:other.test) is refused
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_OTHER_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_name localhost;
    }
--- request eval
[main::pair("/pair"), "GET /stats/tls-other"]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Untouched]
--- error_log eval
[qr/\[error\].*upstream SSL certificate does not match "localhost"/, $main::ModuleLine]



=== TEST 8: wa_pair_ssl_name engine.test matches the certificate's other name (and sends no SNI: wa_pair_ssl_server_name is off by default)
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_name engine.test;
    }
--- request eval
[main::pair("/pair"), "GET /stats/tls"]
--- error_code eval
[200, 200]
--- response_body eval
[$main::Paired, main::paired_once("-")]
--- no_error_log
[error]



=== TEST 9: wa_pair_ssl_name other.test is refused by a certificate for localhost and engine.test
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_name other.test;
    }
--- request eval
[main::pair("/pair"), "GET /stats/tls"]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Untouched]
--- error_log eval
[qr/\[error\].*upstream SSL certificate does not match "other\.test"/, $main::ModuleLine]



=== TEST 10: wa_pair_ssl_server_name on sends wa_pair_ssl_name as SNI
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_name engine.test;
        wa_pair_ssl_server_name on;
    }
--- request eval
[main::pair("/pair"), "GET /stats/tls"]
--- error_code eval
[200, 200]
--- response_body eval
[$main::Paired, main::paired_once("engine.test")]
--- no_error_log
[error]



=== TEST 11: mTLS: an engine that requires a client certificate refuses a call without one (over TLS 1.3 nginx itself logs the engine's alert at [crit])
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_MTLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_name localhost;
    }
--- request eval
[main::pair("/pair"), "GET /stats/mtls"]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Untouched]
--- error_log eval
[qr/SSL_read\(\) failed \(SSL: .*alert certificate required/, $main::ModuleLine]
--- no_error_log eval
[qr/\[crit\](?!.*SSL_read\(\) failed \(SSL: .*SSL alert number 116\))/]



=== TEST 12: mTLS: a client certificate another CA signed is refused
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_MTLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_name localhost;
        wa_pair_ssl_certificate $TEST_NGINX_TLS_WRONG_CLIENT_CERT;
        wa_pair_ssl_certificate_key $TEST_NGINX_TLS_WRONG_CLIENT_KEY;
    }
--- request eval
[main::pair("/pair"), "GET /stats/mtls"]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Untouched]
--- error_log eval
[qr/\[error\].*SSL.*alert unknown ca/, $main::ModuleLine]



=== TEST 13: mTLS: the test CA's client certificate is accepted
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_MTLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_name localhost;
        wa_pair_ssl_certificate $TEST_NGINX_TLS_CLIENT_CERT;
        wa_pair_ssl_certificate_key $TEST_NGINX_TLS_CLIENT_KEY;
    }
--- request eval
[main::pair("/pair"), "GET /stats/mtls"]
--- error_code eval
[200, 200]
--- response_body eval
[$main::Paired, main::paired_once("-")]
--- no_error_log
[error]



=== TEST 14: wa_pair_ssl_protocols TLSv1.3 does not reach an engine that speaks TLS 1.2 at most
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS12_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_name localhost;
        wa_pair_ssl_protocols TLSv1.3;
    }
--- request eval
[main::pair("/pair"), "GET /stats/tls12"]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Untouched]
--- error_log eval
[qr/\[error\].*SSL_do_handshake\(\) failed .*(?:protocol version|unsupported protocol)/i, $main::ModuleLine]



=== TEST 15: the default protocols (TLSv1.2 TLSv1.3) reach an engine that speaks TLS 1.2 at most
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS12_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_name localhost;
    }
--- request eval
[main::pair("/pair"), "GET /stats/tls12"]
--- error_code eval
[200, 200]
--- response_body eval
[$main::Paired, main::paired_once("-")]
--- no_error_log
[error]



=== TEST 16: a TLS engine called with http:// is a 502, logged at [error] naming the backend
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code;
    }
--- request eval
[main::pair("/pair"), "GET /stats/tls"]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Untouched]
--- error_log eval
qr/\[error\].*\bwa_pair: .*"http:\/\/127\.0\.0\.1:$ENV{TEST_NGINX_TLS_PORT}\/v1\/pair-code"/



=== TEST 17: an upstream{} block of https engines: the calls go round its servers, each verified against wa_pair_ssl_name
--- http_config
    upstream engines {
        server 127.0.0.1:$TEST_NGINX_TLS_PORT;
        server 127.0.0.1:$TEST_NGINX_TLS2_PORT;
    }
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://engines/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_name localhost;
    }
--- request eval
[main::pair("/pair"), main::pair("/pair"), "GET /stats/tls", "GET /stats/tls2"]
--- error_code eval
[200, 200, 200, 200]
--- response_body eval
[$main::Paired, $main::Paired, main::paired_once("-"), main::paired_once("-")]
--- no_error_log
[error]



=== TEST 18: the wa_pair_ssl_* directives of the server level apply to its locations: trust, name, SNI, client certificate
--- config
    wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
    wa_pair_ssl_name localhost;
    wa_pair_ssl_server_name on;
    wa_pair_ssl_certificate $TEST_NGINX_TLS_CLIENT_CERT;
    wa_pair_ssl_certificate_key $TEST_NGINX_TLS_CLIENT_KEY;
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_MTLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
    }
--- request eval
[main::pair("/pair"), "GET /stats/mtls"]
--- error_code eval
[200, 200]
--- response_body eval
[$main::Paired, main::paired_once("localhost")]
--- no_error_log
[error]



=== TEST 19: wa_pair_ssl_protocols of the server level applies to its locations
--- config
    wa_pair_ssl_protocols TLSv1.3;
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS12_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_name localhost;
    }
--- request eval
[main::pair("/pair"), "GET /stats/tls12"]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Untouched]
--- error_log eval
[qr/\[error\].*SSL_do_handshake\(\) failed .*(?:protocol version|unsupported protocol)/i, $main::ModuleLine]



=== TEST 20: a location's own wa_pair_ssl_trusted_certificate replaces the server level's
--- config
    wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
    wa_pair_ssl_name localhost;
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_WRONG_CA;
    }
--- request eval
[main::pair("/pair"), "GET /stats/tls"]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Untouched]
--- error_log eval
[qr/\[error\].*upstream SSL certificate verify error: \(\d+:/, $main::ModuleLine]



=== TEST 21: wa_pair_ssl_session_reuse off: every call a full handshake, and it pairs
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_name localhost;
        wa_pair_ssl_session_reuse off;
    }
--- request eval
[main::pair("/pair"), "GET /stats/tls"]
--- error_code eval
[200, 200]
--- response_body eval
[$main::Paired, main::paired_once("-")]
--- no_error_log
[error]



=== TEST 22: nginx -t: wa_pair_ssl_certificate without wa_pair_ssl_certificate_key
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_MTLS_PORT/v1/pair-code;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_certificate $TEST_NGINX_TLS_CLIENT_CERT;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*no "wa_pair_ssl_certificate_key" is defined for certificate "\Q$ENV{TEST_NGINX_TLS_CLIENT_CERT}\E"/



=== TEST 23: nginx -t: a wa_pair_ssl_trusted_certificate file that does not exist, named by nginx
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_WA_DIR/no-such-ca.pem;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*SSL_CTX_load_verify_locations\("[^"]*\/no-such-ca\.pem"\) failed/



=== TEST 24: nginx -t: a wa_pair_ssl_certificate file that does not exist, named by nginx
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_MTLS_PORT/v1/pair-code;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_certificate $TEST_NGINX_WA_DIR/no-such-client.pem;
        wa_pair_ssl_certificate_key $TEST_NGINX_TLS_CLIENT_KEY;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*cannot load certificate "[^"]*\/no-such-client\.pem"/



=== TEST 25: nginx -t: wa_pair_ssl_verify_depth must be a number
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_verify_depth deep;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_ssl_verify_depth" directive invalid number/



=== TEST 26: nginx -t: wa_pair_ssl_protocols takes protocol names only (nginx's message names the value, not the directive)
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_protocols TLSv1.2 SSLv9;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid value "SSLv9"/



=== TEST 27: nginx -t: wa_pair_ssl_verify is on or off
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code;
        wa_pair_ssl_verify yes;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid value "yes" in "wa_pair_ssl_verify" directive, it must be "on" or "off"/



=== TEST 28: two locations that call one https engine with different trust share its TLS sessions: nginx -t warns, naming both
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_name localhost;
    }
    location = /other {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_WRONG_CA;
        wa_pair_ssl_name localhost;
    }
--- request eval
main::pair("/pair")
--- response_body eval
$main::Paired
--- error_log eval
qr/\[warn\].*wa_pair: locations "\/pair" and "\/other" call the https backend "127\.0\.0\.1" with different wa_pair_ssl_\* settings, and nginx shares its TLS sessions between them/



=== TEST 29: the same settings, or session reuse off in one of them: no warning
--- config
    location = /pair {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_name localhost;
    }
    location = /same {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_CA;
        wa_pair_ssl_name localhost;
    }
    location = /own-sessions {
        wa_pair;
        wa_pair_backend https://127.0.0.1:$TEST_NGINX_TLS_PORT/v1/pair-code?pair_code=TLS1PA1R;
        wa_pair_ssl_trusted_certificate $TEST_NGINX_TLS_WRONG_CA;
        wa_pair_ssl_name localhost;
        wa_pair_ssl_session_reuse off;
    }
--- request eval
main::pair("/pair")
--- response_body eval
$main::Paired
--- no_error_log
[warn]
