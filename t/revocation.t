use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# Revocation (wa_pair_jwt_revocation_file): the origin revokes a device's tokens by raising
# its version; the file lists "<device-id> <minimum-version>". A token of a listed device
# whose version claim is lower, or missing, is 401 "Invalid or expired JWT token". The file
# is read with the configuration: a reload (HUP) reads it again, while the old workers finish
# the requests they have; a file the reload refuses leaves the running configuration alone.
#
# nginx runs with a master process here (reloads). Blocks without --- config keep the nginx
# of the block before them. A request carries Content-Type: application/json.

WaPairTest::write_jwt_keys();

our $ApiKey = 'wa_live_' . WaPairTest::random_hex(16);
WaPairTest::audit_credential($ApiKey);
write_test_file('api-keys.txt', sha256_hex($ApiKey) . " dev-rev\n");
write_test_file('revocations.txt', <<'_EOF_');
# <device-id> <minimum-version>: tokens below the version are revoked
dev-rev 3
dev-zero	0
_EOF_
write_test_file('revocations-other.txt', "dev-other 5\n");
write_test_file('revocations-live.txt', "dev-hup 1\n");
write_test_file('revocations-bad.txt', "dev-rev 3\ndev-zero v2\n");
write_test_file('revocations-dup.txt', "dev-rev 3\n\ndev-rev 4\n");

our $Ok = '{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}';
our $BadJwt = '{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"}';
our $Post = "POST /devices/me/login-code\n{\"phone\":\"6281234567890\"}";

sub bearer { "Authorization: Bearer " . WaPairTest::token(@_) }
our $Revoked = WaPairTest::token(device_id => 'dev-rev', claims => { version => 2 });
sub version { my ($device, $v, %o) = @_; bearer(device_id => $device, claims => { version => $v }, %o) }

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(more_headers => with_headers($block->more_headers,
                          'Content-Type: application/json'))
        unless defined $block->must_die || defined $block->raw_request;
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

master_on();
workers(1);
log_level('debug');
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a listed device's tokens need the minimum version; unlisted devices are untouched
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_key_file $TEST_NGINX_JWT_RSA_PEM;
        wa_pair_jwt_revocation_file $TEST_NGINX_WA_DIR/revocations.txt;
    }
--- more_headers eval
[main::version('dev-rev', 2), main::version('dev-rev', 0), main::bearer(device_id => 'dev-rev'),
 main::version('dev-rev', 2, alg => 'RS256'), main::bearer(device_id => undef, sub => 'dev-rev', claims => {version => 1}),
 main::version('dev-rev', 3), main::version('dev-rev', 4), main::version('dev-rev', 3, alg => 'PS256'),
 main::version('dev-zero', 0), main::bearer(device_id => 'dev-zero'),
 main::bearer(device_id => 'dev-other'), main::version('dev-other', 0)]
--- request eval
[($main::Post) x 12]
--- error_code eval
[(401) x 5, (200) x 3, 200, 401, 200, 200]
--- response_body eval
[($main::BadJwt) x 5, ($main::Ok) x 4, $main::BadJwt, $main::Ok, $main::Ok]



=== TEST 2: the reason is logged at debug level, without the token
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_revocation_file $TEST_NGINX_WA_DIR/revocations.txt;
    }
--- more_headers eval
"Authorization: Bearer $main::Revoked"
--- request eval
$main::Post
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
--- error_log
wa_pair: unauthorized: token version revoked
--- no_error_log eval
[map { qr/wa_pair.*\Q$_\E/ } split /\./, $main::Revoked]



=== TEST 3: API keys are revoked by removing them from their file, not by versions
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_api_keys_file $TEST_NGINX_WA_DIR/api-keys.txt;
        wa_pair_jwt_revocation_file $TEST_NGINX_WA_DIR/revocations.txt;
    }
--- more_headers eval
"Authorization: $main::ApiKey"
--- request eval
$main::Post
--- response_body eval
$main::Ok



=== TEST 4: the list is inherited; a location's own list replaces it
--- http_config
    wa_pair_jwt_revocation_file $TEST_NGINX_WA_DIR/revocations.txt;
--- config
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
    location = /devices/me/login-code {
        wa_pair;
    }
    location = /other {
        wa_pair;
        wa_pair_jwt_revocation_file $TEST_NGINX_WA_DIR/revocations-other.txt;
    }
--- more_headers eval
[main::version('dev-rev', 2), main::version('dev-other', 4), main::version('dev-rev', 2), main::version('dev-other', 4)]
--- request eval
[$main::Post, $main::Post, "POST /other\n{\"phone\":\"6281234567890\"}", "POST /other\n{\"phone\":\"6281234567890\"}"]
--- error_code eval
[401, 200, 200, 401]



=== TEST 5: before the reload: dev-hup needs version 1
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_revocation_file $TEST_NGINX_WA_DIR/revocations-live.txt;
    }
    location = /slow {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=SLAB1234&delay=1;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_revocation_file $TEST_NGINX_WA_DIR/revocations-live.txt;
    }
--- more_headers eval
[main::version('dev-hup', 1), main::version('dev-hup', 0)]
--- request eval
[($main::Post) x 2]
--- error_code eval
[200, 401]



=== TEST 6: the origin raises dev-hup to version 2, nginx -s reload: version 1 is out; a request in flight is answered
--- init
WaPairTest::backend_reset();
my $slow = "POST /slow HTTP/1.1\nHost: localhost\nConnection: close\nContent-Type: application/json\n"
         . main::version('dev-hup', 1) . "\n\n{\"phone\":\"6281234567890\"}";
my $pid = WaPairTest::background_request('in-flight', $slow);
WaPairTest::wait_backend_requests(1);        # it is in the old worker, waiting for the backend
WaPairTest::write_test_file('revocations-live.txt', "# raised\ndev-hup 2\n");
WaPairTest::reload_nginx();                  # returns once the old worker has finished
waitpid $pid, 0;
Test::More::like(WaPairTest::background_result('in-flight'),
                 qr{^HTTP/1\.1 200 .*"pair_code":"SLAB-1234"}s,
                 'the request in flight during the reload is answered by the old configuration');
--- more_headers eval
[main::version('dev-hup', 1), main::version('dev-hup', 2), main::version('dev-hup', 1)]
--- request eval
[$main::Post, $main::Post, "POST /slow\n{\"phone\":\"6281234567890\"}"]
--- error_code eval
[401, 200, 401]



=== TEST 7: a reload with a broken file is refused and the running list stays (the new one would refuse version 2)
--- init
WaPairTest::write_test_file('revocations-live.txt', "dev-hup 3\ndev-x three\n");
WaPairTest::reload_nginx(fails => qr/"wa_pair_jwt_revocation_file" file ".*revocations-live\.txt", line 2/);
--- more_headers eval
main::version('dev-hup', 2)
--- request eval
$main::Post
--- error_code: 200
--- error_log eval
qr/\[emerg\].*"wa_pair_jwt_revocation_file" file ".*\/revocations-live\.txt", line 2: the minimum version is not a non-negative integer/



=== TEST 8: a bad version stops nginx, naming the file and the line
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_revocation_file $TEST_NGINX_WA_DIR/revocations-bad.txt;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_jwt_revocation_file" file ".*\/revocations-bad\.txt", line 2: the minimum version is not a non-negative integer/



=== TEST 9: a device listed twice stops nginx
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_revocation_file $TEST_NGINX_WA_DIR/revocations-dup.txt;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_jwt_revocation_file" file ".*\/revocations-dup\.txt", line 3: a device listed twice/



=== TEST 10: a missing file stops nginx
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_revocation_file $TEST_NGINX_WA_DIR/no-such-list.txt;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_jwt_revocation_file" cannot open ".*\/no-such-list\.txt"/



=== TEST 11: wa_pair_jwt_revocation_file given twice in one block is a duplicate
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_revocation_file $TEST_NGINX_WA_DIR/revocations.txt;
        wa_pair_jwt_revocation_file $TEST_NGINX_WA_DIR/revocations-other.txt;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_jwt_revocation_file" directive is duplicate/
