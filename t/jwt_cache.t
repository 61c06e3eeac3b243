use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# A location reuses the verification of a token it has already verified (src/auth/jwt_cache.hpp),
# in the same worker: the second request below always comes after a first one with the same
# token on the same nginx, so each block proves a property of a kept verification — exp
# judged again at each use, and a location never answering from another one's verifications.

our $Config = <<'_EOC_';
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
    location = /strict {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        wa_pair_jwt_require iss=https://id.example;
    }
    location = /result {
        alias $TEST_NGINX_WA_DIR/result.txt;
    }
_EOC_

# The status of one login-code POST to $path with $token, on its own connection.
sub main::status_of {
    my ($path, $token) = @_;
    my $answer = WaPairTest::post_once($path, "Authorization: Bearer $token");
    return $answer =~ m{^HTTP/1\.1 (\d+)} ? $1 : 'no answer';
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $Config) unless defined $block->config;
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

workers(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a kept token that expires is refused: 200 while valid (twice: verified, then kept), 401 once exp has passed
--- init
my $token = WaPairTest::token(exp => time() + 2);
my @s = map { main::status_of('/devices/me/login-code', $token) } 1 .. 2;
sleep 3;
push @s, main::status_of('/devices/me/login-code', $token);
WaPairTest::write_file("$WaPairTest::Dir/result.txt", "@s\n");
--- request
GET /result
--- response_body
200 200 401
--- timeout: 20



=== TEST 2: a token verified by one location is not accepted by another that requires more of it
--- init
my $token = WaPairTest::token();
my @s = (main::status_of('/devices/me/login-code', $token), main::status_of('/strict', $token),
         main::status_of('/devices/me/login-code', $token));
WaPairTest::write_file("$WaPairTest::Dir/result.txt", "@s\n");
--- request
GET /result
--- response_body
200 401 200
