use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# Asymmetric JWTs (wa_pair_jwt_key_file, wa_pair_jwt_algorithms): PEM public keys and JWK
# Sets; RS256/384/512, PS256/384/512, ES256/384/512 (raw R||S), EdDSA (Ed25519) and HS* from
# an "oct" JWK. A token's kid selects the keys of that kid; the key type must fit the
# algorithm; the allow-list is wa_pair_jwt_algorithms, by default every algorithm a
# configured key fits. Every refusal is 401 "Invalid or expired JWT token".
#
# The tokens are minted by Crypt::JWT with key pairs made by CryptX (t/lib/WaPairTest.pm),
# whose public halves WaPairTest writes as PEM files and a JWK Set: none of it by the module.
# Unless a block says otherwise: the location has every PEM key, in front of the dev backend
# (answering ABCD-1234), and a request carries Content-Type: application/json.

WaPairTest::write_jwt_keys();

our @Asymmetric = qw(RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA);
our %KidOf = map { $_ => $WaPairTest::Kid{ WaPairTest::alg_key_name($_) } } @Asymmetric;

# Files of this test: a JWK Set whose RSA key is pinned to RS256, one with an encryption key
# beside a signing one, keys nginx -t refuses.
{
    my $rsa = WaPairTest::key_pair('rsa')->export_key_jwk('public', 1);
    my $ed = WaPairTest::key_pair('ed25519')->export_key_jwk('public', 1);
    my $json = JSON::PP->new->canonical;
    write_test_file('jwks-pinned.json', $json->encode({ keys => [{ %$rsa, alg => 'RS256' }] }));
    write_test_file('jwks-enc.json', $json->encode({ keys => [{ %$rsa, use => 'enc', kid => 'enc-1' }, $ed] }));
    write_test_file('jwks-private.json', $json->encode({ keys => [
        { %{ WaPairTest::key_pair('ec256')->export_key_jwk('private', 1) }, kid => 'oops' }] }));
    write_test_file('jwks-empty.json', '{"keys":[]}');
    write_test_file('jwks-bad-alg.json', $json->encode({ keys => [{ %$ed, alg => 'ES256' }] }));
    require Crypt::PK::RSA;
    write_test_file('rsa-1024.pem', Crypt::PK::RSA->new->generate_key(128)->export_key_pem('public_x509'));
}

our $AllPem = <<'_EOC_';
        wa_pair_jwt_key_file $TEST_NGINX_JWT_RSA_PEM;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_EC256_PEM;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_EC384_PEM;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_EC521_PEM;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_ED25519_PEM;
_EOC_

our $Location = <<"_EOC_";
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/recorder/v1/pair-code?pair_code=ABCD1234;
$AllPem
        add_header X-Auth-Method \$wa_pair_auth always;
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
_EOC_

our $Ok = '{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}';
our $BadJwt = '{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"}';
our $Post = "POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}";

sub bearer { "Authorization: Bearer " . WaPairTest::token(@_) }
sub log_lines { join '', map { qq{$_ {"device_id":"$_","phone":"6281234567890"}\n} } @_ }

add_block_preprocessor(sub {
    my $block = shift;
    unless (defined $block->must_die) {
        $block->set_value(config => ($block->config // $Location) . $Helpers);
        $block->set_value(http_config => ($block->http_config // '')
            . "    log_format wa_backend escape=none '\$http_x_device_id \$request_body';\n");
        $block->set_value(more_headers => with_headers($block->more_headers,
                              'Content-Type: application/json'));
    }
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

log_level('debug');
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a Crypt::JWT token of every asymmetric algorithm verifies with the PEM keys
--- more_headers eval
[(map { main::bearer(alg => $_, device_id => "dev-$_") } @main::Asymmetric), ""]
--- request eval
[($main::Post) x 10, "GET /backend-log"]
--- response_headers eval
[("X-Auth-Method: jwt") x 10, ""]
--- response_body eval
[($main::Ok) x 10, main::log_lines(map { "dev-$_" } @main::Asymmetric)]



=== TEST 2: a PKCS#1 "RSA PUBLIC KEY" file (and CryptX's SPKI under that label) verifies RS* and PS*
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_RSA_PKCS1_PEM;
    }
    location = /cryptx {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_RSA_CRYPTX_PEM;
    }
--- more_headers eval
[(map { main::bearer(alg => $_) } qw(RS256 RS512 PS256 PS384 RS384 PS512)), main::bearer(alg => 'RS256', key => 'other')]
--- request eval
[($main::Post) x 4, ("POST /cryptx\n{\"phone\":\"6281234567890\"}") x 3]
--- error_code eval
[(200) x 6, 401]



=== TEST 3: a JWK Set: every algorithm with its kid, or without one; an "oct" key for HS256
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_key_file $TEST_NGINX_JWKS;
    }
--- more_headers eval
[(map { main::bearer(alg => $_, kid => $main::KidOf{$_}) } @main::Asymmetric),
 (map { main::bearer(alg => $_) } @main::Asymmetric),
 main::bearer(alg => 'HS256', key => 'jwk_hmac', kid => 'hmac-1'),
 main::bearer(alg => 'HS512', key => 'jwk_hmac'),
 main::bearer(alg => 'HS256')]
--- request eval
[($main::Post) x 23]
--- error_code eval
[(200) x 22, 401]
--- response_body eval
[($main::Ok) x 22, $main::BadJwt]



=== TEST 4: a kid selects its keys only: another key's kid, an unknown kid, path and SQL characters
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_key_file $TEST_NGINX_JWKS;
    }
--- more_headers eval
[main::bearer(alg => 'RS256', kid => 'ec-256'),
 main::bearer(alg => 'ES256', kid => 'ec-384'),
 main::bearer(alg => 'EdDSA', kid => 'rsa-1'),
 main::bearer(alg => 'HS256', key => 'jwk_hmac', kid => 'rsa-1'),
 main::bearer(alg => 'RS256', kid => 'rsa-2'),
 main::bearer(alg => 'RS256', kid => 'RSA-1'),
 main::bearer(alg => 'RS256', kid => ''),
 main::bearer(alg => 'RS256', kid => '../../../../etc/nginx/jwks.json'),
 main::bearer(alg => 'RS256', kid => '/dev/null'),
 main::bearer(alg => 'RS256', kid => "rsa-1' OR '1'='1"),
 main::bearer(alg => 'RS256', kid => 'rsa-1; DROP TABLE keys; --'),
 main::bearer(alg => 'RS256', kid => 'https://evil.example/jwks.json'),
 main::bearer(alg => 'RS256', headers => { kid => ['rsa-1'] }),
 main::bearer(alg => 'RS256', kid => 'rsa-1')]
--- request eval
[($main::Post) x 14]
--- error_code eval
[(401) x 13, 200]
--- response_body eval
[($main::BadJwt) x 13, $main::Ok]



=== TEST 5: a token signed by another key pair of the right type is refused, for every algorithm
--- more_headers eval
[map { main::bearer(alg => $_, key => 'other') } @main::Asymmetric]
--- request eval
[($main::Post) x 10]
--- error_code eval
[(401) x 10]
--- response_body eval
[($main::BadJwt) x 10]
--- error_log
wa_pair: unauthorized: signature mismatch



=== TEST 6: algorithm confusion: HS256 "signed" with the RSA public key file as the secret
--- config
    location = /rsa-only {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_RSA_PEM;
    }
    location = /hs-allowed {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_RSA_PEM;
        wa_pair_jwt_algorithms HS256 RS256;
    }
    location = /with-secret {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_RSA_PEM;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- more_headers eval
my $pem = do { local (@ARGV, $/) = ($ENV{TEST_NGINX_JWT_RSA_PEM}); <> };
my $forged = WaPairTest::raw_jwt(header => {alg => 'HS256', typ => 'JWT'}, payload => {device_id => 'admin'},
                                 sign => 'HS256', secret => $pem);
["Authorization: Bearer $forged", "Authorization: Bearer $forged", "Authorization: Bearer $forged",
 main::bearer(alg => 'RS256'), main::bearer(alg => 'HS256')]
--- request eval
["POST /rsa-only\n{\"phone\":\"6281234567890\"}", "POST /hs-allowed\n{\"phone\":\"6281234567890\"}",
 "POST /with-secret\n{\"phone\":\"6281234567890\"}", "POST /with-secret\n{\"phone\":\"6281234567890\"}",
 "POST /with-secret\n{\"phone\":\"6281234567890\"}"]
--- error_code eval
[401, 401, 401, 200, 200]
--- response_body eval
[($main::BadJwt) x 3, $main::Ok, $main::Ok]



=== TEST 7: the attack table with asymmetric tokens: none, tampering, segments, encoding, size, time
--- more_headers eval
my @rs = split /\./, WaPairTest::token(alg => 'RS256', device_id => 'dev-42');
my @es = split /\./, WaPairTest::token(alg => 'ES256', device_id => 'dev-42');
my @ed = split /\./, WaPairTest::token(alg => 'EdDSA', device_id => 'dev-42');
my $other = (split /\./, WaPairTest::token(alg => 'RS256', device_id => 'admin'))[1];
my $flip = sub { my $s = shift; substr($s, 10, 1) = substr($s, 10, 1) eq 'A' ? 'B' : 'A'; $s };
my $std = sub { my $s = shift; $s =~ tr{-_}{+/}; $s };
my $none_header = MIME::Base64::encode_base64url('{"alg":"none","typ":"JWT"}');
my $tampered_header = MIME::Base64::encode_base64url('{"alg":"RS256","typ":"JWT","x":1}');
my @cases = (
    "$none_header.$rs[1].",
    MIME::Base64::encode_base64url('{"alg":"None"}') . ".$rs[1].$rs[2]",
    MIME::Base64::encode_base64url('{"alg":"NONE"}') . ".$rs[1].",
    "$tampered_header.$rs[1].$rs[2]",
    "$rs[0].$other.$rs[2]",
    "$rs[0].$rs[1]." . $flip->($rs[2]),
    "$es[0].$es[1]." . $flip->($es[2]),
    "$ed[0].$ed[1]." . substr($ed[2], 0, -2),
    "$rs[0].$rs[1].$rs[2].$rs[2]",
    "$es[0].$es[1].$es[2]=",
    "$es[0]=.$es[1].$es[2]",
    "$rs[0].$rs[1]." . $std->($rs[2]) . "+/",
    WaPairTest::token(alg => 'PS256', headers => { x => 'x' x 3000 }),
    WaPairTest::token(alg => 'RS256', exp => time - 60),
    WaPairTest::token(alg => 'ES384', nbf => time + 3600),
    WaPairTest::token(alg => 'ES512', iat => time + 3600),
    WaPairTest::token(alg => 'EdDSA', headers => { typ => 'JOSE' }),
    WaPairTest::token(alg => 'ES256', headers => { crit => ['exp'] }),
    "$ed[0].$ed[1].$ed[2]",
);
[map { "Authorization: Bearer $_" } @cases]
--- request eval
[($main::Post) x 19]
--- error_code eval
[(401) x 18, 200]
--- response_body eval
[($main::BadJwt) x 8, '{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or missing authentication"}',
 ($main::BadJwt) x 9, $main::Ok]



=== TEST 8: wa_pair_jwt_algorithms is the allow-list
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_key_file $TEST_NGINX_JWKS;
        wa_pair_jwt_algorithms ES256 EdDSA;
    }
--- more_headers eval
[map { main::bearer(alg => $_) } qw(ES256 EdDSA RS256 PS256 ES384 ES512 HS256)]
--- request eval
[($main::Post) x 7]
--- error_code eval
[200, 200, (401) x 5]
--- response_body eval
[$main::Ok, $main::Ok, ($main::BadJwt) x 5]



=== TEST 9: by default only what the configured keys fit is allowed
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_EC384_PEM;
    }
--- more_headers eval
[map { main::bearer(alg => $_) } qw(ES384 ES256 ES512 RS256 EdDSA HS256)]
--- request eval
[($main::Post) x 6]
--- error_code eval
[200, (401) x 5]



=== TEST 10: a JWK's "alg" pins the key to that algorithm
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_key_file $TEST_NGINX_WA_DIR/jwks-pinned.json;
    }
--- more_headers eval
[map { main::bearer(alg => $_) } qw(RS256 RS384 PS256)]
--- request eval
[($main::Post) x 3]
--- error_code eval
[200, 401, 401]



=== TEST 11: key files are inherited; a location's own key files replace the inherited ones, the secret stays
--- http_config
    wa_pair_jwt_key_file $TEST_NGINX_JWT_RSA_PEM;
    wa_pair_jwt_key_file $TEST_NGINX_JWT_ED25519_PEM;
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
    }
    location = /ec-only {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_EC256_PEM;
    }
--- more_headers eval
[map { main::bearer(alg => $_) } qw(RS256 EdDSA ES256 HS256 RS256 EdDSA ES256 HS256)]
--- request eval
[($main::Post) x 4, ("POST /ec-only\n{\"phone\":\"6281234567890\"}") x 4]
--- error_code eval
[200, 200, 401, 200, 401, 401, 200, 200]



=== TEST 12: JWKs for encryption are skipped with a warning at start; the others are used
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_key_file $TEST_NGINX_WA_DIR/jwks-enc.json;
    }
--- more_headers eval
main::bearer(alg => 'EdDSA')
--- request eval
$main::Post
--- error_code: 200
--- error_log eval
qr/\[warn\].*"wa_pair_jwt_key_file" file ".*\/jwks-enc\.json": key 1 \(kid "enc-1"\) skipped: "use" is not "sig"/



=== TEST 13: the skipped JWK verifies nothing
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_key_file $TEST_NGINX_WA_DIR/jwks-enc.json;
    }
--- more_headers eval
main::bearer(alg => 'RS256')
--- request eval
$main::Post
--- error_code: 401
--- error_log
wa_pair: unauthorized: alg not allowed



=== TEST 14: an allowed algorithm no key fits is worth a warning at start
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_RSA_PEM;
        wa_pair_jwt_algorithms RS256 ES256;
    }
--- more_headers eval
main::bearer(alg => 'ES256')
--- request eval
$main::Post
--- error_code: 401
--- error_log eval
qr/\[warn\].*"wa_pair_jwt_algorithms" allows ES256, but no configured key fits it/



=== TEST 15: a private key stops nginx (the edge needs the public key only)
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_RSA_PRIVATE_PEM;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_jwt_key_file" file ".*\/jwt-rsa-private\.pem": holds a private key \(PEM "RSA PRIVATE KEY"\): give the public key only/



=== TEST 16: a JWK with private members stops nginx
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_key_file $TEST_NGINX_WA_DIR/jwks-private.json;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_jwt_key_file" file ".*\/jwks-private\.json": key 1 \(kid "oops"\): holds private key material \("d"\)/



=== TEST 17: an HMAC secret file given as a key file stops nginx
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_jwt_key_file" file ".*\/jwt\.key": neither a PEM public key nor a JWK Set/
--- no_error_log eval
[WaPairTest::secret()]



=== TEST 18: a 1024-bit RSA key stops nginx
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_key_file $TEST_NGINX_WA_DIR/rsa-1024.pem;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_jwt_key_file" file ".*\/rsa-1024\.pem": RSA key of 1024 bits: at least 2048 are required/



=== TEST 19: a JWK whose "alg" does not fit its key stops nginx
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_key_file $TEST_NGINX_WA_DIR/jwks-bad-alg.json;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_jwt_key_file" file ".*\/jwks-bad-alg\.json": key 1: "alg" ES256 does not fit an OKP Ed25519 key/



=== TEST 20: an empty JWK Set stops nginx
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_key_file $TEST_NGINX_WA_DIR/jwks-empty.json;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_jwt_key_file" file ".*\/jwks-empty\.json": no usable key in the JWK Set/



=== TEST 21: a missing key file stops nginx, and the path is named
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_key_file $TEST_NGINX_WA_DIR/no-such-key.pem;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_jwt_key_file" cannot open ".*\/no-such-key\.pem"/



=== TEST 22: wa_pair_jwt_algorithms never allows none
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_RSA_PEM;
        wa_pair_jwt_algorithms RS256 None;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_jwt_algorithms": "none" is never allowed/



=== TEST 23: wa_pair_jwt_algorithms names JWA algorithms exactly
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_RSA_PEM;
        wa_pair_jwt_algorithms rs256;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid value "rs256" in "wa_pair_jwt_algorithms": not one of HS256 HS384 HS512 RS256/



=== TEST 24: wa_pair_jwt_algorithms given twice in one block is a duplicate
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_RSA_PEM;
        wa_pair_jwt_algorithms RS256;
        wa_pair_jwt_algorithms PS256;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_jwt_algorithms" directive is duplicate/
