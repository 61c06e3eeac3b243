use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use WaPairZoneTest ();         # synchronous requests and reloads for --- init
use WaPairEventsTest ();       # signed events; clients that wait on wa_pair_status
use Test::Nginx::Socket 'no_plan';

# wa_pair_status's long-poll across workers: ?wait=N holds a request until the
# device's state changes, wherever the change happened, without blocking and without CPU of
# its own (one timer per waiter, one 25 ms look at the zone's generation per worker).
#
# nginx runs a master and two workers. Every config gets /pair (the dev backend), /status,
# /events (native, signed), /pid (the worker that serves a connection, also in X-Worker on
# every answer) and /result (what --- init measured).

our $Helpers = <<'_EOC_';
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    wa_pair_zone_use pairing;
    add_header X-Worker $pid always;
    location = /pair {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
    location = /pair-2s {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?timeout=2;
    }
    location = /status {
        wa_pair_status;
    }
    location = /events {
        wa_pair_events;
        wa_pair_events_zone pairing;
        wa_pair_events_secret_file $TEST_NGINX_EVENTS_SECRET_FILE;
    }
    location = /pid {
        return 200 "$pid";
    }
    location = /result {
        alias $TEST_NGINX_WA_DIR/result.txt;
    }
    location /bg/ {
        alias $TEST_NGINX_WA_DIR/;
        default_type text/plain;
    }
_EOC_

sub main::record {
    WaPairTest::write_file("$WaPairTest::Dir/result.txt", join '', map { "$_\n" } @_);
}

# --- init: the cross-worker wake-up, summarised; the latencies go to the test's output (and
# to $WA_PAIR_STATUS_FIGURES when set)
sub main::wake {
    my (%o) = @_;
    my $body = WaPairEventsTest::native($o{event}, 'dev-42');
    my $r = WaPairEventsTest::wake_across_workers(device => 'dev-42', wait => 20, waiters => 6,
        event_uri => '/events', event => $body, headers => [WaPairEventsTest::signed('native', $body)]);
    my @w = @{ $r->{waiters} };
    my @lat = map { defined $_->{latency} ? sprintf('%.1f', 1000 * $_->{latency}) : 'none' } @w;
    my $line = "wake-up latency (ms) of " . @w . " waiters, event in worker $r->{event_pid}: "
             . join(' ', map { "$lat[$_] (worker $w[$_]{pid})" } 0 .. $#w);
    Test::More::diag($line);
    if (my $f = $ENV{WA_PAIR_STATUS_FIGURES}) { open my $fh, '>>', $f or die; print $fh "$line\n"; close $fh }
    main::record("event: $r->{event_status}",
                 "waiters: " . @w,
                 "in another worker than the event: " . ((grep { $_->{pid} ne $r->{event_pid} } @w) ? 'some' : 'none'),
                 "answered $o{state}: " . (grep { ($_->{body} // '') =~ /"data":\{"state":"$o{state}"/ } @w),
                 "within 100 ms: " . (grep { defined $_->{latency} && $_->{latency} < 0.1 } @w));
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => "    wa_pair_zone pairing:1m;\n" . ($block->http_config // ''));
    $block->set_value(config => ($block->config // '') . $Helpers);
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'))
        unless defined $block->raw_request;
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming(), $WaPairEventsTest::Secret));
});

master_on();
workers(2);
check_accum_error_log();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: an event in one worker wakes the waiters of both workers within 100 ms
Six requests wait (?wait=20) on connections served by both workers; the pair_success event is
sent on a connection of one of them.
--- init
WaPairTest::backend_reset();
WaPairZoneTest::request_sync(WaPairZoneTest::pair_raw('/pair'));
main::wake(event => 'pair_success', state => 'linked');
--- request
GET /result
--- response_body
event: 204
waiters: 6
in another worker than the event: some
answered linked: 6
within 100 ms: 6
--- timeout: 30



=== TEST 2: the same for a pair_error: the waiters see their pending code gone
--- init
WaPairTest::backend_reset();
WaPairZoneTest::request_sync(WaPairZoneTest::pair_raw('/pair'));
main::wake(event => 'pair_error', state => 'none');
--- request
GET /result
--- response_body
event: 204
waiters: 6
in another worker than the event: some
answered none: 6
within 100 ms: 6
--- timeout: 30



=== TEST 3: a code that expires ends the wait when it expires, not when the wait is up
--- init
WaPairTest::backend_reset();
WaPairZoneTest::request_sync(WaPairZoneTest::pair_raw('/pair-2s'));
--- request
GET /status?wait=30
--- response_body_like eval
qr/^\{"status":true,"code":200,"message":"Pairing status","data":\{"state":"none"\}\}$/
--- timeout: 4



=== TEST 4: a new code from a pairing request in either worker wakes a waiter that saw none
--- init
WaPairTest::backend_reset();
WaPairTest::background_request('w1', "GET /status?wait=30 HTTP/1.1\nHost: localhost\n"
    . WaPairTest::auth_header() . "\nConnection: close\n\n");
Time::HiRes::sleep(0.3);
WaPairZoneTest::request_sync(WaPairZoneTest::pair_raw('/pair'));
Time::HiRes::sleep(0.2);
--- request
GET /bg/w1.out
--- response_body_like eval
qr/"data":\{"state":"pending","timeout":1[12]\d\}\}$/



=== TEST 5: waiting clients that leave are let go: the workers keep serving and answer the others
Twenty waiters connect and hang up; one more waits and is woken by the event.
--- init
WaPairTest::backend_reset();
WaPairZoneTest::request_sync(WaPairZoneTest::pair_raw('/pair'));
my @gone;
for (1 .. 20) {
    my $s = WaPairEventsTest::connect_nginx();
    print {$s} "GET /status?wait=30 HTTP/1.1\r\nHost: localhost\r\n" . WaPairTest::auth_header() . "\r\n\r\n";
    push @gone, $s;
}
WaPairTest::background_request('w1', "GET /status?wait=30 HTTP/1.1\nHost: localhost\n"
    . WaPairTest::auth_header() . "\nConnection: close\n\n");
Time::HiRes::sleep(0.3);
close $_ for @gone;
Time::HiRes::sleep(0.2);
my $body = WaPairEventsTest::native('pair_success', 'dev-42');
my $answer = WaPairZoneTest::request_sync("POST /events HTTP/1.1\nHost: localhost\n"
    . WaPairEventsTest::signed('native', $body) . "\nConnection: close\n\n$body");
die "event: $answer" unless $answer =~ m{^HTTP/1\.1 204 };
Time::HiRes::sleep(0.2);
--- request eval
["GET /bg/w1.out", "GET /status"]
--- response_body_like eval
['"data":\{"state":"linked"\}\}$', '"data":\{"state":"linked"\}\}$']



=== TEST 6: a reload answers the old workers' waiters at once with what they know (the clients ask the new workers)
--- init
WaPairTest::backend_reset();
WaPairZoneTest::request_sync(WaPairZoneTest::pair_raw('/pair'));
WaPairTest::background_request('w1', "GET /status?wait=60 HTTP/1.1\nHost: localhost\n"
    . WaPairTest::auth_header() . "\nConnection: close\n\n");
Time::HiRes::sleep(0.3);
my $t0 = Time::HiRes::time();
WaPairZoneTest::reload_nginx();
Time::HiRes::sleep(0.05) until WaPairTest::background_result('w1') =~ /\r\n\r\n./s || Time::HiRes::time() - $t0 > 5;
main::record('answered within 2 s of the reload: ' . (Time::HiRes::time() - $t0 < 2 ? 'yes' : 'no'),
             WaPairTest::background_result('w1') =~ /"data":\{"state":"pending","timeout":1[12]\d\}\}$/ ? 'pending' : 'other');
--- request
GET /result
--- response_body
answered within 2 s of the reload: yes
pending
--- timeout: 10
