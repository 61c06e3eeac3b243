use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# wa_pair_backend takes every form proxy_pass takes, and nginx's upstream does the rest: the
# name of an upstream{} block (its balancer, max_conns, backup, keepalive), a host name
# resolved when the configuration loads, and, with variables, a block's name or a literal
# address per request. wa_pair_next_upstream moves to another server only while the request
# was not sent. $upstream_* variables are nginx's own.
#
# Two dev backends serve every block: one on a Unix socket, one on TCP (TEST_NGINX_BACKEND_SOCK,
# TEST_NGINX_BACKEND_PORT). A request carries a valid device token and Content-Type:
# application/json.

our $Ok = '{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}';
our $Unavailable = '{"status":false,"code":503,"message":"Service unavailable","error":"Pairing backend is unavailable"}';
sub main::pair { "POST $_[0]\n{\"phone\":\"6281234567890\"}" }

# For each of `devices`, `per_device` pairings on `path` with that device's token, and which
# of the two dev backends received them: "dev-1 unix 5" (or "tcp 5", or "split 3+2").
sub main::placement_run {
    my ($path, $per_device, @devices) = @_;
    my $text = '';
    for my $device (@devices) {
        WaPairTest::backend_reset();
        WaPairTest::backend_reset($ENV{TEST_NGINX_BACKEND_PORT});
        my $auth = 'Authorization: Bearer ' . WaPairTest::token(device_id => $device);
        my $ok = 0;
        for (1 .. $per_device) {
            $ok++ if WaPairTest::post_once($path, $auth) =~ m{^HTTP/1\.1 200 };
        }
        my $unix = WaPairTest::backend_stats()->{requests};
        my $tcp = WaPairTest::backend_stats($ENV{TEST_NGINX_BACKEND_PORT})->{requests};
        my $where = $tcp == 0 ? "unix $unix" : $unix == 0 ? "tcp $tcp" : "split $unix+$tcp";
        $text .= "$device ok $ok $where\n";
    }
    WaPairTest::write_file("$WaPairTest::Dir/result.txt", $text);
}

# `count` pairings on `path` sent at the same time, each on its own connection: the statuses.
sub main::concurrent_run {
    my ($path, $count) = @_;
    my @pids = map {
        WaPairTest::background_request("c$_", "POST $path HTTP/1.1\nHost: localhost\n"
            . WaPairTest::auth_header() . "\nContent-Type: application/json\nConnection: close\n\n"
            . '{"phone":"6281234567890"}')
    } 1 .. $count;
    waitpid($_, 0) for @pids;
    my %status;
    for (1 .. $count) {
        my ($code) = WaPairTest::background_result("c$_") =~ m{^HTTP/1\.1 (\d+)};
        $status{ $code // 'none' }++;
    }
    WaPairTest::write_file("$WaPairTest::Dir/result.txt",
                           join('', map { "$_ x$status{$_}\n" } sort keys %status));
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $block->config . <<'_EOC_');
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /result {
        alias $TEST_NGINX_WA_DIR/result.txt;
    }
_EOC_
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'))
        unless defined $block->must_die;
    $block->set_value(init => 'WaPairTest::backend_reset();') unless defined $block->init;
    # nothing alarming may reach the error log, whatever the block proves
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

workers(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: the name of an upstream{} block: its servers are called
--- http_config
    upstream engine {
        server unix:$TEST_NGINX_BACKEND_SOCK;
    }
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://engine/v1/pair-code?pair_code=ABCD1234;
    }
--- request eval
main::pair("/p")
--- response_body eval
$main::Ok



=== TEST 2: hash $wa_pair_device_id consistent: each device always reaches the same server
--- http_config
    upstream by_device {
        hash $wa_pair_device_id consistent;
        server unix:$TEST_NGINX_BACKEND_SOCK;
        server 127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://by_device/v1/pair-code?pair_code=ABCD1234;
    }
--- init
main::placement_run('/p', 5, map { "dev-$_" } 1 .. 12);
--- request
GET /result
--- response_body_like eval
qr/\A(?:dev-\d+ ok 5 (?:unix|tcp) 5\n){12}\z/
--- timeout: 30



=== TEST 3: hash spreads: of 12 devices some reach each server
--- http_config
    upstream by_device {
        hash $wa_pair_device_id consistent;
        server unix:$TEST_NGINX_BACKEND_SOCK;
        server 127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://by_device/v1/pair-code?pair_code=ABCD1234;
    }
--- init
main::placement_run('/p', 1, map { "dev-$_" } 1 .. 12);
--- request
GET /result
--- response_body_like eval
qr/ unix 1\n(?:.|\n)* tcp 1\n| tcp 1\n(?:.|\n)* unix 1\n/
--- timeout: 30



=== TEST 4: max_conns=1 and two concurrent slow calls: one is answered, the other is a 503 at once
--- http_config
    upstream one_conn {
        server unix:$TEST_NGINX_BACKEND_SOCK max_conns=1;
    }
--- config
    location = /slow {
        wa_pair;
        wa_pair_backend http://one_conn/v1/pair-code?pair_code=ABCD1234&delay=1;
    }
--- init
main::concurrent_run('/slow', 2);
--- request
GET /result
--- response_body
200 x1
503 x1
--- error_log eval
qr/\[error\].*no live upstreams while connecting to upstream/
--- timeout: 10



=== TEST 5: every server down: a 503 with the contract's text
--- http_config
    upstream all_down {
        server unix:$TEST_NGINX_BACKEND_SOCK down;
    }
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://all_down/v1/pair-code?pair_code=ABCD1234;
    }
--- request eval
main::pair("/p")
--- error_code: 503
--- response_body eval
$main::Unavailable



=== TEST 6: a server that refuses: the backup server is called (the request was not sent)
--- http_config
    upstream with_backup {
        server unix:$TEST_NGINX_NO_BACKEND_SOCK;
        server unix:$TEST_NGINX_BACKEND_SOCK backup;
    }
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://with_backup/v1/pair-code?pair_code=ABCD1234;
    }
--- request eval
main::pair("/p")
--- response_body eval
$main::Ok



=== TEST 7: wa_pair_next_upstream off: the refusal is the answer
--- http_config
    upstream with_backup {
        server unix:$TEST_NGINX_NO_BACKEND_SOCK;
        server unix:$TEST_NGINX_BACKEND_SOCK backup;
    }
--- config
    location = /p {
        wa_pair;
        wa_pair_next_upstream off;
        wa_pair_backend http://with_backup/v1/pair-code?pair_code=ABCD1234;
    }
--- request eval
main::pair("/p")
--- error_code: 503
--- response_body eval
$main::Unavailable



=== TEST 8: a server that does not answer in time is not asked again elsewhere: 504, the second server never called
--- http_config
    upstream slow_first {
        server unix:$TEST_NGINX_BACKEND_SOCK;
        server 127.0.0.1:$TEST_NGINX_BACKEND_PORT backup;
    }
--- config
    location = /p {
        wa_pair;
        wa_pair_backend_timeout 300ms;
        wa_pair_backend http://slow_first/v1/pair-code?pair_code=ABCD1234&delay=1;
    }
    location = /tcp-stats {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/_stats;
    }
--- init
WaPairTest::backend_reset();
WaPairTest::backend_reset($ENV{TEST_NGINX_BACKEND_PORT});
--- request eval
[main::pair("/p"), "GET /tcp-stats"]
--- error_code eval
[504, 200]
--- response_body_like eval
['"error":"Pairing backend did not answer in time"', '^\{"requests":0\b']
--- timeout: 5



=== TEST 9: localhost is resolved when the configuration loads
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://localhost:$TEST_NGINX_BACKEND_PORT/v1/pair-code?pair_code=ABCD1234;
    }
--- request eval
main::pair("/p")
--- response_body eval
$main::Ok



=== TEST 10: an upstream{} block may come after the wa_pair_backend that names it
--- http_config
    wa_pair_backend http://later/v1/pair-code?pair_code=ABCD1234;
    upstream later {
        server unix:$TEST_NGINX_BACKEND_SOCK;
    }
--- config
    location = /p {
        wa_pair;
    }
--- request eval
main::pair("/p")
--- response_body eval
$main::Ok



=== TEST 11: with variables: the name of an upstream{} block from a map, or a literal address, per request
--- http_config
    upstream engine_a {
        server unix:$TEST_NGINX_BACKEND_SOCK;
    }
    map $arg_engine $engine {
        a       engine_a;
        default 127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://$engine/v1/pair-code?pair_code=ABCD1234;
    }
--- request eval
[main::pair("/p?engine=a"), main::pair("/p?engine=b")]
--- response_body eval
[$main::Ok, $main::Ok]



=== TEST 12: with variables, a name that is no upstream{} block needs a resolver: without one, a 503, logged
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://$arg_host:3000/v1/pair-code;
    }
--- request eval
main::pair("/p?host=engine.invalid")
--- error_code: 503
--- response_body eval
$main::Unavailable
--- error_log eval
[qr/\[error\].*no resolver defined to resolve engine\.invalid/,
 qr/\[error\].*wa_pair: native pairing backend "http:\/\/engine\.invalid:3000\/v1\/pair-code" is unavailable/]



=== TEST 13: $upstream_* variables are nginx's: the engine's status, its address, times and bytes
--- http_config
    log_format up '$uri $status $upstream_status $upstream_addr $upstream_connect_time $upstream_response_time $upstream_bytes_received';
--- config
    access_log logs/up.log up;
    location = /ok    { wa_pair; wa_pair_backend http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/v1/pair-code?pair_code=ABCD1234; }
    location = /s409  { wa_pair; wa_pair_backend http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/v1/pair-code?status=409; }
    location = /s500  { wa_pair; wa_pair_backend http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/v1/pair-code?status=500; }
    location = /down  { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_NO_BACKEND_SOCK; }
    location = /up-log { alias logs/up.log; }
--- request eval
[main::pair("/ok"), main::pair("/s409"), main::pair("/s500"), main::pair("/down"), "GET /up-log"]
--- error_code eval
[200, 409, 500, 503, 200]
--- response_body_like eval
["", "", "", "",
 '^/ok 200 200 127\.0\.0\.1:\d+ \d+\.\d{3} \d+\.\d{3} [1-9]\d*
/s409 409 409 127\.0\.0\.1:\d+ \d+\.\d{3} \d+\.\d{3} [1-9]\d*
/s500 500 500 127\.0\.0\.1:\d+ \d+\.\d{3} \d+\.\d{3} [1-9]\d*
/down 503 502 unix:\S+nobody-listens\.sock - \d+\.\d{3} 0
$']



=== TEST 14: keepalive_requests of the upstream block is honoured: 100 pairings, 10 per connection
--- http_config
    upstream ten_each {
        server unix:$TEST_NGINX_BACKEND_SOCK;
        keepalive 4;
        keepalive_requests 10;
    }
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://ten_each/v1/pair-code?pair_code=ABCD1234;
    }
    location = /connections {
        proxy_pass http://unix:$TEST_NGINX_BACKEND_SOCK:/_connections;
    }
--- init
WaPairTest::backend_reset();
WaPairTest::hammer(paths => ['/p'], count => 100, concurrency => 1);
--- request
GET /connections
--- response_body chomp
{"connections":10}



=== TEST 15: wa_pair_next_upstream refuses non_idempotent: a pairing request is never sent twice
--- config
    location = /p {
        wa_pair;
        wa_pair_next_upstream error timeout non_idempotent;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_next_upstream" does not take "non_idempotent": a pairing request that was sent is never sent again/



=== TEST 16: values about answers are accepted with a warning that they cannot apply
--- config
    location = /p {
        wa_pair;
        wa_pair_next_upstream error http_502;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
    }
--- request eval
main::pair("/p")
--- response_body eval
$main::Ok
--- error_log eval
qr/\[warn\].*"wa_pair_next_upstream http_502" has no effect: an answer means the pairing request was sent/



=== TEST 17: wa_pair_next_upstream refuses an unknown value, and "off" with others
--- config
    location = /p {
        wa_pair;
        wa_pair_next_upstream error off;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_next_upstream" directive takes "off" alone/



=== TEST 18: an upstream{} block's name with a port it does not have is nginx's error
--- http_config
    upstream engine {
        server unix:$TEST_NGINX_BACKEND_SOCK;
    }
--- config
    location = /p {
        wa_pair;
        wa_pair_backend http://engine:8080/v1/pair-code;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*upstream "engine" may not have port 8080|host not found in upstream "engine:8080"/
