use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use WaPairZoneTest ();         # synchronous requests, sprays of pairings
use WaPairEventsTest ();       # signed events, sprays of events
use Test::Nginx::Socket 'no_plan';

# Events cannot fill the zone: an event changes a device the zone holds and never
# creates an entry, so a spray of correctly signed events for made-up devices stores nothing,
# evicts nothing, and needs no memory even in a zone that is full; the fail-closed rules of
# the zone (t/zone_fail_closed.t) hold with events arriving.
#
# Each block's --- init writes what its sprays got to result.txt; nginx runs a master and two
# workers.

our $Helpers = <<'_EOC_';
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /status {
        wa_pair_status;
        wa_pair_zone_use tiny;
    }
    location = /events {
        wa_pair_events;
        wa_pair_events_zone tiny;
        wa_pair_events_secret_file $TEST_NGINX_EVENTS_SECRET_FILE;
    }
    location = /result {
        alias $TEST_NGINX_WA_DIR/result.txt;
    }
    location = /backend-stats {
        proxy_pass http://unix:$TEST_NGINX_BACKEND_SOCK:/_stats;
    }
_EOC_

our $TooMany = '{"status":false,"code":429,"message":"Too many requests","error":"Too many pairing requests"}';
our $Full = '{"status":false,"code":503,"message":"Service unavailable","error":"Pairing backend is unavailable"}';
sub main::pair { "POST $_[0]\n{\"phone\":\"" . ($_[1] || '6281234567890') . "\"}" }
sub main::state { '^' . quotemeta(qq({"status":true,"code":200,"message":"Pairing status","data":{"state":"$_[0]"}})) . '$' }
sub main::record {
    my ($counts) = @_;
    WaPairTest::write_file("$WaPairTest::Dir/result.txt",
                           join('', map { "$_ x$counts->{$_}\n" } sort keys %$counts));
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => ($block->config // '') . $Helpers);
    $block->set_value(more_headers => with_headers($block->more_headers, 'Content-Type: application/json'));
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming(), $WaPairEventsTest::Secret));
});

master_on();
log_level("warn");   # 10,000 events at debug level write some 140,000 lines for the log checks to scan
workers(2);
check_accum_error_log();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: 10,000 signed events for made-up devices change nothing in a full 32k zone, and one for a device it holds still applies
Devices pair once each under per_device=1/h until the zone is full (every entry holds a limit
for an hour). Then 10,000 events of every native kind (pair_success, connected, pair_error,
logged_out, code) for devices the zone does not hold: all 204. The zone still refuses a new
device (503), still limits the first one (429), the made-up devices are nowhere (status none:
neither made-up-5's pair_success nor made-up-9999's code made an entry), and an event for a
device it holds applies without a byte of new memory.
--- http_config
    wa_pair_zone tiny:32k;
--- config
    location = /p {
        wa_pair;
        wa_pair_zone_use tiny;
        wa_pair_limit per_device=1/h;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- init
WaPairTest::backend_reset();
my $fill = WaPairZoneTest::spray('/p', device => 'dev-fill', count => 400, clients => 1, devices => 1);
die "the zone did not fill: @{[ %$fill ]}\n" unless $fill->{503};
my @kinds = ('pair_success', 'connected', 'pair_error', 'logged_out', 'code');
my $events = WaPairEventsTest::spray('/events', count => 10000, clients => 4, body => sub {
    my $kind = $kinds[$_[0] % @kinds];
    WaPairEventsTest::native($kind, "made-up-$_[0]", $kind eq 'code' ? (pair_code => 'ABCD1234', timeout => 120) : ());
});
main::record({ %$events, calls => WaPairTest::backend_stats()->{requests},
               codes => $fill->{200} });
--- more_headers eval
[WaPairTest::auth_header(device_id => 'dev-fill-0'), WaPairTest::auth_header(device_id => 'dev-new'),
 WaPairTest::auth_header(device_id => 'made-up-5'), WaPairTest::auth_header(device_id => 'made-up-9999'),
 WaPairEventsTest::signed('native', WaPairEventsTest::native('pair_success', 'dev-fill-1')),
 WaPairTest::auth_header(device_id => 'dev-fill-1'), WaPairTest::auth_header(device_id => 'dev-fill-1'), ""]
--- request eval
[main::pair('/p', '6289999999999'), main::pair('/p', '6289999999999'), "GET /status", "GET /status",
 WaPairEventsTest::post('/events', WaPairEventsTest::native('pair_success', 'dev-fill-1')),
 "GET /status", main::pair('/p', '6282222222222'), "GET /result"]
--- error_code eval
[429, 503, 200, 200, 204, 200, 409, 200]
--- response_body_like eval
["^\Q$main::TooMany\E\$", "^\Q$main::Full\E\$", main::state('none'), main::state('none'), '^$',
 main::state('linked'), '"error":"Device is already logged in"', '^204 x10000\ncalls x(\d+)\ncodes x\1\n$']
--- error_log eval
qr/\[error\].*wa_pair_zone "tiny" is full of entries the edge policy still needs/
--- timeout: 90



=== TEST 2: a spray of events for one real device from another worker leaves the zone's other devices alone
Device A is limited; 2,000 events say device B paired, unpaired, failed and got codes, in any
order: B ends in one of its states, A is still limited, and the engine was called twice.
--- http_config
    wa_pair_zone tiny:32k;
--- config
    location = /p {
        wa_pair;
        wa_pair_zone_use tiny;
        wa_pair_limit per_device=1/h;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- init
WaPairTest::backend_reset();
for my $d ('dev-a', 'dev-b') {
    my $answer = WaPairZoneTest::request_sync(WaPairZoneTest::pair_raw('/p', device => $d));
    die "$d: $answer" unless $answer =~ m{^HTTP/1\.1 200 };
}
my @kinds = ('pair_success', 'logged_out', 'pair_error', 'connected');
my $events = WaPairEventsTest::spray('/events', count => 2000, clients => 4,
    body => sub { WaPairEventsTest::native($kinds[$_[0] % 4], 'dev-b') });
main::record({ %$events, calls => WaPairTest::backend_stats()->{requests} });
--- more_headers eval
[WaPairTest::auth_header(device_id => 'dev-a'), WaPairTest::auth_header(device_id => 'dev-b'), ""]
--- request eval
[main::pair('/p', '6283333333333'), "GET /status", "GET /result"]
--- error_code eval
[429, 200, 200]
--- response_body_like eval
["^\Q$main::TooMany\E\$", '"data":\{"state":"(linked|none)"\}\}$', "^204 x2000\ncalls x2\n\$"]
--- timeout: 60
