use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';
use IO::Socket::UNIX ();
use Time::HiRes ();

# The transport to the pairing backend, on nginx's upstream: connections kept alive by an
# upstream{} block's keepalive (and not without one, as proxy_pass), the cap on the answer
# (wa_pair_backend_buffer_size), every way a backend can fail on the wire turned into the
# envelope docs/protocol.md gives, a pairing request never written twice, and what an operator
# sees: the error log lines of each failure (nginx's own and the module's, the phone masked)
# and $wa_pair_outcome / $wa_pair_backend_time in the access log.
#
# The dev backend (tools/dev_backend.py) answers what the query string of its URI asks for;
# GET /_connections counts the connections that carried pairing requests since the last
# reset, GET /_stats the requests per target. A request carries a valid device token and
# Content-Type: application/json.

# A socket file nobody listens on any more (connect() is refused, not "no such file").
my $stale = "$WaPairTest::Dir/stale.sock";
IO::Socket::UNIX->new(Local => $stale, Listen => 1) or die "$stale: $!";
chmod 0666, $stale;
$ENV{TEST_NGINX_STALE_SOCK} = $stale;

# A backend whose listen queue is full (it stopped accepting): backlog 0, one connection
# waiting in it.
my $full = "$WaPairTest::Dir/full.sock";
our $FullListener = IO::Socket::UNIX->new(Local => $full) or die "$full: $!";
listen($FullListener, 0) or die "listen $full: $!";   # IO::Socket would make a 0 a 5
chmod 0666, $full;
our $FullQueue = IO::Socket::UNIX->new(Peer => $full) or die "$full: $!";
$ENV{TEST_NGINX_FULL_SOCK} = $full;

start_fakes(wuzapi => 'wuz-token-1');

# An engine that writes an answer as soon as it accepts a connection, before it reads
# anything (then waits 1 s and closes): tools/dev_backend.py --early-answer.
my $early = "$WaPairTest::Dir/early.sock";
$WaPairTest::BackendPids{early} = WaPairTest::spawn_backend("$WaPairTest::Dir/early.log",
    '/usr/bin/python3', "$WaPairTest::RepoRoot/tools/dev_backend.py", '--socket', $early, '--early-answer');
for (1 .. 200) { last if -S $early; Time::HiRes::sleep(0.05) }
die "the early-answer backend did not start" unless -S $early;
$ENV{TEST_NGINX_EARLY_SOCK} = $early;

our $Helpers = <<'_EOC_';
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /healthy {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=HEA1THY2;
    }
    location = /result {
        alias $TEST_NGINX_WA_DIR/result.txt;
    }
    location = /backend-stats {
        proxy_pass http://unix:$TEST_NGINX_BACKEND_SOCK:/_stats;
    }
_EOC_

# The recommended form: the engine in an upstream{} block with keepalive.
our $Upstreams = <<'_EOC_';
    upstream engine_unix {
        server unix:$TEST_NGINX_BACKEND_SOCK;
        keepalive 8;
    }
    upstream engine_tcp {
        server 127.0.0.1:$TEST_NGINX_BACKEND_PORT;
        keepalive 8;
    }
_EOC_

our $Healthy = '{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"HEA1-THY2","timeout":120}}';
our $BadAnswer = '{"status":false,"code":502,"message":"Bad gateway","error":"Invalid answer from the pairing backend"}';
our $Unavailable = '{"status":false,"code":503,"message":"Service unavailable","error":"Pairing backend is unavailable"}';
sub main::pair { "POST $_[0]\n{\"phone\":\"6281234567890\"}" }

# Keep-alive: after a warm-up, `count` pairings from 4 keep-alive clients, and how many new
# connections the backend accepted for them. Written to result.txt for /result.
sub main::keepalive_run {
    my ($path, $count, @backend) = @_;
    # warm-up: 4 calls that overlap (each waits 0.3 s) open the 4 connections the 4 clients
    # can need at once, then 100 more
    WaPairTest::hammer(paths => ["$path-warm"], count => 4, concurrency => 4);
    WaPairTest::hammer(paths => [$path], count => 100, concurrency => 4);
    WaPairTest::backend_reset(@backend);
    my $answers = WaPairTest::hammer(paths => [$path], count => $count, concurrency => 4)->{$path};
    my $stats = WaPairTest::backend_stats(@backend);
    my $text = join('', map { "answers $_ x$answers->{$_}\n" } sort keys %$answers)
        . "backend requests $stats->{requests}\n"
        . "new backend connections " . WaPairTest::backend_connections(@backend) . "\n";
    WaPairTest::write_file("$WaPairTest::Dir/result.txt", $text);
    diag("keep-alive $path: $count pairings after warm-up:\n$text") if $ENV{TEST_VERBOSE};
}

# `count` pairings on `path`, one at a time, against the two dev backends (Unix and TCP, or
# only the Unix one): their answers, and how many pairing requests they received together.
sub main::closed_run {
    my ($path, $count, %o) = @_;
    WaPairTest::backend_reset();
    WaPairTest::backend_reset($ENV{TEST_NGINX_BACKEND_PORT});
    my %answers;
    for (1 .. $count) {   # one client connection each; nginx keeps its engine connections
        my $got = WaPairTest::hammer(paths => [$path], count => 1, concurrency => 1)->{$path};
        $answers{$_} += $got->{$_} for keys %$got;
    }
    my $answers = \%answers;
    my $received = WaPairTest::backend_stats()->{requests}
        + ($o{unix_only} ? 0 : WaPairTest::backend_stats($ENV{TEST_NGINX_BACKEND_PORT})->{requests});
    WaPairTest::write_file("$WaPairTest::Dir/result.txt",
        join('', map { "answers $_ x$answers->{$_}\n" } sort keys %$answers)
        . "pairing requests received $received\n");
}

# Pairings on /stray (the engine answers, then writes a stray answer 50 ms later on the same
# kept connection) each followed by one on /next: after 0.2 s (the stray came while the
# connection was idle) or at once (it may come after /next's request). What /next got, and
# whether any client ever saw the stray answer's code.
sub main::stray_run {
    my %seen;
    my $stray_seen = 0;
    for my $pause (0.2, 0) {
        for (1 .. 5) {
            for my $path ('/stray', '/next') {
                my $answer = WaPairTest::post_once($path, WaPairTest::auth_header());
                $stray_seen++ if $answer =~ /STRA-Y222/;
                if ($path eq '/next') {
                    my ($status) = $answer =~ m{^HTTP/1\.1 (\d+)};
                    my ($code) = $answer =~ /"pair_code":"([^"]+)"/;
                    $seen{($pause ? 'idle' : 'at once') . ": $status" . ($code ? " $code" : '')}++;
                }
                Time::HiRes::sleep($pause) if $path eq '/stray';
            }
        }
    }
    WaPairTest::write_file("$WaPairTest::Dir/result.txt",
        join('', map { "$_ x$seen{$_}\n" } sort keys %seen) . "stray code seen $stray_seen\n");
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $block->config . $Helpers);
    $block->set_value(http_config => ($block->http_config // '') . $Upstreams);
    $block->set_value(init => 'WaPairTest::backend_reset();') unless defined $block->init;
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'))
        unless defined $block->raw_request;
    # nothing alarming may reach the error log, whatever the block proves
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

workers(1);
check_accum_error_log();   # --- error_log: anywhere in the block's log, whichever request wrote it
no_shuffle();
run_tests();

__DATA__

=== TEST 1: an upstream block with keepalive keeps connections to a unix: backend: after a warm-up, 1,000 pairings open none
--- config
    location = /ka {
        wa_pair;
        wa_pair_backend http://engine_unix/v1/pair-code?pair_code=KEEP1234;
    }
    location = /ka-warm {
        wa_pair;
        wa_pair_backend http://engine_unix/v1/pair-code?pair_code=KEEP1234&delay=0.3;
    }
--- init
WaPairTest::backend_reset();
main::keepalive_run('/ka', 1000);
--- request
GET /result
--- response_body_like eval
qr/^answers 200 x1000\nbackend requests 1000\nnew backend connections 0\n\z/
--- timeout: 60



=== TEST 2: and to a TCP backend
--- config
    location = /ka-tcp {
        wa_pair;
        wa_pair_backend http://engine_tcp/v1/pair-code?pair_code=KEEP1234;
    }
    location = /ka-tcp-warm {
        wa_pair;
        wa_pair_backend http://engine_tcp/v1/pair-code?pair_code=KEEP1234&delay=0.3;
    }
--- init
main::keepalive_run('/ka-tcp', 1000, $ENV{TEST_NGINX_BACKEND_PORT});
--- request
GET /result
--- response_body_like eval
qr/^answers 200 x1000\nbackend requests 1000\nnew backend connections 0\n\z/
--- timeout: 60



=== TEST 3: without an upstream block each call has a connection of its own, as proxy_pass's
--- config
    location = /no-ka {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=KEEP1234;
    }
    location = /no-ka-warm {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=KEEP1234;
    }
--- init
main::keepalive_run('/no-ka', 200);
--- request
GET /result
--- response_body_like eval
qr/^answers 200 x200\nbackend requests 200\nnew backend connections 200\n\z/
--- timeout: 60



=== TEST 4: a socket file nobody listens on (refused) is a 503, and the next pairing works
--- config
    location = /refused {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_STALE_SOCK;
    }
--- request eval
[main::pair("/refused"), main::pair("/healthy")]
--- error_code eval
[503, 200]
--- response_body eval
[$main::Unavailable, $main::Healthy]



=== TEST 5: refused is logged by nginx with the errno, and by the module naming the backend, the phone masked
--- config
    location = /refused {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_STALE_SOCK;
    }
--- request eval
main::pair("/refused")
--- error_code: 503
--- error_log eval
[qr/\[error\].*connect\(\) to unix:[^ ]+stale\.sock failed \(111: Connection refused\) while connecting to upstream/,
 qr/\[error\].*wa_pair: native pairing backend "unix:[^"]+stale\.sock:\/v1\/pair-code" is unavailable: no connection \(phone 62812\*\*\*\*890\)/]



=== TEST 6: a missing socket is logged by nginx at crit with the errno, as for proxy_pass
--- config
    location = /missing {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_NO_BACKEND_SOCK;
    }
--- request eval
main::pair("/missing")
--- error_code: 503
--- error_log eval
[qr/\[crit\].*connect\(\) to unix:[^ ]+nobody-listens\.sock failed \(2: No such file or directory\)/,
 qr/\[error\].*wa_pair: native pairing backend "unix:[^"]+nobody-listens\.sock:\/v1\/pair-code" is unavailable/]



=== TEST 7: a unix: backend whose listen queue is full is a 503 at once, logged
--- config
    location = /full {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_FULL_SOCK;
    }
--- request eval
main::pair("/full")
--- error_code: 503
--- response_body eval
$main::Unavailable
--- error_log eval
[qr/\[error\].*connect\(\) to unix:[^ ]+full\.sock failed \(11: Resource temporarily unavailable\)/,
 qr/\[error\].*wa_pair: native pairing backend "unix:[^"]+full\.sock:\/v1\/pair-code" is unavailable: no connection/]



=== TEST 8: a backend that closes mid-answer is a 502, and the next pairing works
--- config
    location = /partial {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=partial;
    }
--- request eval
[main::pair("/partial"), main::pair("/healthy")]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Healthy]



=== TEST 9: a backend that resets the connection mid-answer is a 502, and the next pairing works
--- config
    location = /reset {
        wa_pair;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/v1/pair-code?garbage=reset;
    }
--- request eval
[main::pair("/reset"), main::pair("/healthy")]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Healthy]



=== TEST 10: a head larger than wa_pair_backend_buffer_size (256 KB of headers) is a 502
--- config
    location = /bighead {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=bighead;
    }
--- request eval
[main::pair("/bighead"), main::pair("/healthy")]
--- error_code eval
[502, 200]
--- response_body eval
[$main::BadAnswer, $main::Healthy]



=== TEST 11: wa_pair_backend_buffer_size caps the answer: 1k refuses a 1.5 KB answer that 16k (the default) takes
--- config eval
"    location = /small { wa_pair; wa_pair_backend_buffer_size 1k; wa_pair_backend http://unix:\$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=500&error=" . ("e" x 1500) . "; }\n"
. "    location = /default { wa_pair; wa_pair_backend http://unix:\$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=500&error=" . ("e" x 1500) . "; }\n"
. "    location = /small-ok { wa_pair; wa_pair_backend_buffer_size 1k; wa_pair_backend http://unix:\$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=SMA11234; }\n"
--- request eval
[main::pair("/small"), main::pair("/default"), main::pair("/small-ok")]
--- error_code eval
[502, 500, 200]
--- response_body eval
[$main::BadAnswer,
 '{"status":false,"code":500,"message":"Internal server error","error":"Failed to generate pairing code"}',
 '{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"SMA1-1234","timeout":120}}']



=== TEST 12: an answer over the cap is logged naming the cap
--- config
    location = /huge {
        wa_pair;
        wa_pair_backend_buffer_size 4k;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=huge;
    }
--- request eval
main::pair("/huge")
--- error_code: 502
--- error_log eval
qr/\[error\].*wa_pair: native pairing backend "unix:[^"]+:\/v1\/pair-code" failed: its answer is larger than wa_pair_backend_buffer_size \(4096 bytes\) \(phone 62812\*\*\*\*890\)/



=== TEST 13: a URL with variables is evaluated per request
--- config
    location = /by-arg {
        wa_pair;
        wa_pair_backend http://unix:$arg_sock:/v1/pair-code?pair_code=ARG12345;
    }
--- request eval
main::pair("/by-arg?sock=$ENV{TEST_NGINX_BACKEND_SOCK}")
--- response_body chomp
{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ARG1-2345","timeout":120}}



=== TEST 14: a URL with variables that gives an invalid URL for a request is a 500, logged with the directive, not the value
--- config
    location = /by-arg {
        wa_pair;
        wa_pair_backend http://unix:$arg_sock:/v1/pair-code?pair_code=ARG12345;
    }
--- request eval
main::pair("/by-arg?sock=relative/path.sock")
--- error_code: 500
--- response_body chomp
{"status":false,"code":500,"message":"Internal server error","error":"Failed to generate pairing code"}
--- error_log eval
qr/\[error\].*wa_pair: "wa_pair_backend http:\/\/unix:\$arg_sock:\/v1\/pair-code\?pair_code=ARG12345" gave an invalid URL for this request: the unix socket path must be absolute/



=== TEST 15: a header value with variables that carries a line break is not sent: a 500, logged without the value
--- config
    location ~ (?s)^/by-header/(.*)$ {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK;
        wa_pair_backend_header X-Api-Key $1;
    }
--- request eval
main::pair("/by-header/secret%0D%0AX-Injected:%201")
--- error_code: 500
--- error_log eval
qr/\[error\].*wa_pair: the value of "wa_pair_backend_header X-Api-Key" has control characters in this request: not sent/
--- no_error_log eval
[qr/\[error\].*wa_pair:[^,]*(secret|X-Injected)/]



=== TEST 16: $wa_pair_outcome and $wa_pair_backend_time tell how each request ended, decided at the edge or by the backend
--- http_config
    log_format outcome '$uri $status $wa_pair_outcome $wa_pair_backend_time';
--- config
    access_log logs/outcome.log outcome;
    location = /ok        { wa_pair; client_max_body_size 1k; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234; }
    location = /s409      { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=409; }
    location = /s429      { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=429; }
    location = /s403      { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=403; }
    location = /s500      { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=500; }
    location = /garbage   { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=notjson; }
    location = /nobody    { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_NO_BACKEND_SOCK; }
    location = /slow      { wa_pair; wa_pair_backend_timeout 300ms; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?delay=2; }
    location = /no-session { wa_pair; wa_pair_backend_protocol wuzapi; wa_pair_backend http://unix:$TEST_NGINX_FAKE_WUZAPI_SOCK; wa_pair_backend_header token wuz-token-1; wa_pair_backend_header X-Fake-Answer no_session; }
    location = /bad-token { wa_pair; wa_pair_backend_protocol wuzapi; wa_pair_backend http://unix:$TEST_NGINX_FAKE_WUZAPI_SOCK; wa_pair_backend_header token nope; }
    location = /bad-url   { wa_pair; wa_pair_backend http://unix:$arg_sock; }
    location = /outcome-log { alias logs/outcome.log; }
--- more_headers eval
["", "!Authorization", "Content-Type: text/plain", "", "", (("") x 11), ""]
--- request eval
["GET /ok", main::pair("/ok"), main::pair("/ok"), "POST /ok\n{\"phone\":\"0812\"}",
 "POST /ok\n" . ('{"phone":"6281234567890","pad":"' . ("x" x 2000) . '"}'),
 map({ main::pair("/$_") } qw(ok s409 s429 s403 s500 garbage nobody slow no-session bad-token)),
 main::pair("/bad-url?sock=relative"), "GET /outcome-log"]
--- error_code eval
[405, 401, 415, 400, 413, 200, 409, 429, 400, 500, 502, 503, 504, 503, 502, 500, 200]
--- response_body_like eval
[("") x 16,
 '^/ok 405 method_not_allowed -
/ok 401 unauthorized -
/ok 415 unsupported_media_type -
/ok 400 bad_request -
/ok 413 payload_too_large -
/ok 200 ok \d+\.\d{3}
/s409 409 already_logged_in \d+\.\d{3}
/s429 429 rate_limited \d+\.\d{3}
/s403 400 backend_rejected \d+\.\d{3}
/s500 500 backend_failed \d+\.\d{3}
/garbage 502 bad_backend_answer \d+\.\d{3}
/nobody 503 backend_unavailable \d+\.\d{3}
/slow 504 backend_timeout \d+\.\d{3}
/no-session 503 backend_not_ready \d+\.\d{3}
/bad-token 502 backend_auth_failed \d+\.\d{3}
/bad-url 500 internal_error -
$']
--- timeout: 5



=== TEST 17: a client that goes away during the backend call is client_closed, the call's time counted until then
--- http_config
    log_format outcome '$uri $status $wa_pair_outcome $wa_pair_backend_time';
--- config
    access_log logs/outcome.log outcome;
    location = /slow { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?delay=2; }
    location = /outcome-log { alias logs/outcome.log; }
--- request eval
[main::pair("/slow"), "GET /outcome-log"]
--- abort
--- timeout: 0.5
--- wait: 0.3
--- error_code eval
["", 200]
--- response_body_like eval
["", '^/slow 499 client_closed \d+\.\d{3}\n$']



=== TEST 18: outside a wa_pair location the variables are empty ("-" in a log)
--- http_config
    log_format outcome '$uri $status $wa_pair_outcome $wa_pair_backend_time $wa_pair_device_id';
--- config
    access_log logs/outcome.log outcome;
    location = /plain { return 204; }
    location = /outcome-log { alias logs/outcome.log; }
--- request eval
["GET /plain", "GET /outcome-log"]
--- error_code eval
[204, 200]
--- response_body eval
["", "/plain 204 - - -\n"]



=== TEST 19: an engine that reads the request on a kept connection and closes: a 502, and the request was written once, never again on a new connection
--- config
    location = /dropped {
        wa_pair;
        wa_pair_backend http://engine_unix/v1/pair-code?garbage=close-kept&pair_code=HEA1THY2;
    }
--- init
main::closed_run('/dropped', 3, unix_only => 1);
--- request
GET /result
--- response_body
answers 200 x2
answers 502 x1
pairing requests received 3
--- error_log eval
[qr/\[error\].*upstream prematurely closed connection while reading response header from upstream/,
 qr/\[error\].*wa_pair: native pairing backend "http:\/\/engine_unix\/v1\/pair-code" failed: the connection ended before a whole answer \(phone 62812\*\*\*\*890\)/]



=== TEST 20: the same with two servers (kept in the rotation, max_fails=0): the other one is never asked, since the first was sent the request
--- http_config
    upstream two_engines {
        server unix:$TEST_NGINX_BACKEND_SOCK max_fails=0;
        server 127.0.0.1:$TEST_NGINX_BACKEND_PORT max_fails=0;
        keepalive 8;
    }
--- config
    location = /closed {
        wa_pair;
        wa_pair_backend http://two_engines/v1/pair-code?garbage=close;
    }
--- init
main::closed_run('/closed', 20);
--- request
GET /result
--- response_body
answers 502 x20
pairing requests received 20
--- error_log eval
qr/\[error\].*wa_pair: native pairing backend "http:\/\/two_engines\/v1\/pair-code" failed: the connection ended before a whole answer/



=== TEST 21: a stray answer the engine writes after a real one on a kept connection never answers another request
While the connection is idle nginx's keepalive check closes it; when the stray comes after
the next request was written, its X-Request-ID is another request's: a 502, never its code.
--- config
    location = /stray {
        wa_pair;
        wa_pair_backend http://engine_unix/v1/pair-code?garbage=stray;
    }
    location = /next {
        wa_pair;
        wa_pair_backend http://engine_unix/v1/pair-code?pair_code=HEA1THY2;
    }
--- init
main::stray_run();
--- request
GET /result
--- response_body_like eval
qr/\A(?:at once: (?:200 HEA1-THY2|502) x\d\n){1,2}idle: 200 HEA1-THY2 x5\nstray code seen 0\n\z/
--- timeout: 30



=== TEST 22: an answer the engine writes before the request was written is a 502, never a code
The request carries 1 MB of an operator's header, more than a Unix socket takes at once; the
engine answers before it reads any of it.
--- http_config
    large_client_header_buffers 4 2m;
--- config
    location = /early {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_EARLY_SOCK:/v1/pair-code;
        wa_pair_backend_header X-Pad $http_x_pad;
    }
--- more_headers eval
"X-Pad: " . ("p" x (1024 * 1024))
--- request eval
main::pair("/early")
--- error_code: 502
--- response_body eval
$main::BadAnswer
--- error_log eval
qr/\[error\].*wa_pair: native pairing backend "unix:[^"]+early\.sock:\/v1\/pair-code" failed: it answered before the request was written/
