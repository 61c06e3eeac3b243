use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# X-Request-ID without a sane incoming one is nginx's $request_id (README.md, "What a client gets"). The
# module draws it from OpenSSL's generator in batches (one RAND_bytes per 64 ids, per worker)
# and stores it as the request's $request_id: what nginx's own variables, add_header and the
# access log see must be the same id, and no two requests, in any worker, may share one.

our $Config = <<'_EOC_';
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
        add_header X-Nginx-Request-Id $request_id always;
        access_log $TEST_NGINX_WA_DIR/rid.log wa_rid;
    }
    location = /result {
        alias $TEST_NGINX_WA_DIR/result.txt;
    }
_EOC_

# `count` requests on fresh connections (so both workers take some), alternately a 200 and a
# 401; checks every X-Request-ID against the add_header copy, uniqueness, and the access log.
sub main::ids_run {
    my ($count) = @_;
    my $token = WaPairTest::token();
    my (%seen, @problems);
    for my $i (1 .. $count) {
        my $answer = WaPairTest::post_once('/devices/me/login-code',
                                           $i % 2 ? ("Authorization: Bearer $token") : ());
        my ($id) = $answer =~ /\r\nX-Request-ID: ([^\r]*)\r\n/;
        my ($nginx) = $answer =~ /\r\nX-Nginx-Request-Id: ([^\r]*)\r\n/;
        $id //= '(none)';
        push @problems, "request $i: X-Request-ID $id is not 32 hex digits" unless $id =~ /^[0-9a-f]{32}\z/;
        push @problems, "request $i: \$request_id is " . ($nginx // '(none)') . ", X-Request-ID $id"
            unless defined $nginx && $nginx eq $id;
        push @problems, "request $i: $id was already given out" if $seen{$id}++;
    }
    # the access log line is written after the answer: give the workers a moment
    my @missing;
    for (1 .. 50) {
        my %logged = map { $_ => 1 } split /\n/, WaPairTest::slurp("$WaPairTest::Dir/rid.log");
        @missing = grep { !$logged{$_} } keys %seen;
        last unless @missing;
        select undef, undef, undef, 0.1;
    }
    push @problems, scalar(@missing) . " ids are not in the access log" if @missing;
    WaPairTest::write_file("$WaPairTest::Dir/result.txt",
        @problems ? join("\n", @problems[0 .. ($#problems < 9 ? $#problems : 9)]) . "\n"
                  : "$count distinct ids, each the request's \$request_id and logged\n");
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $Config) unless defined $block->config;
    $block->set_value(http_config => q{log_format wa_rid '$request_id';});
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

master_on();
workers(2);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: the 200 envelope's X-Request-ID is the request's $request_id
--- more_headers eval
WaPairTest::auth_header() . "\nContent-Type: application/json"
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 200
--- raw_response_headers_like: (?s)\r\nX-Request-ID: ([0-9a-f]{32})\r\n(?:.*\r\n)?X-Nginx-Request-Id: \1\r\n



=== TEST 2: so is the 401's (the id is drawn before any upstream work)
--- more_headers
Content-Type: application/json
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 401
--- raw_response_headers_like: (?s)\r\nX-Request-ID: ([0-9a-f]{32})\r\n(?:.*\r\n)?X-Nginx-Request-Id: \1\r\n



=== TEST 3: a sane incoming X-Request-ID is echoed; $request_id stays nginx's own
--- more_headers eval
WaPairTest::auth_header() . "\nContent-Type: application/json\nX-Request-ID: caller-42"
--- request
POST /devices/me/login-code
{"phone":"6281234567890"}
--- error_code: 200
--- raw_response_headers_like: (?s)\r\nX-Request-ID: caller-42\r\n(?:.*\r\n)?X-Nginx-Request-Id: [0-9a-f]{32}\r\n



=== TEST 4: 400 requests across two workers (several batches each): 400 distinct ids, each its request's $request_id and in the access log
--- init
main::ids_run(400);
--- request
GET /result
--- response_body
400 distinct ids, each the request's $request_id and logged
--- timeout: 60
