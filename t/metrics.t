use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use WaPairZoneTest ();         # reloads
use WaPairMetricsTest ();      # requests, the scrape read by the Prometheus parser, reports
use Test::Nginx::Socket 'no_plan';

# wa_pair_metrics (docs/metrics.md): Prometheus metrics from shared memory. nginx runs a master and
# two workers; each block's --- init sends a known mix of requests (around a reload where it
# says so), scrapes /metrics, reads the scrape with the Prometheus client's own text parser
# (python3-prometheus-client) and writes what it found to a report, which the block GETs:
# its expected body is the specification.
#
# Every config gets, besides its own locations:
#   wa_pair_zone pairing:1m                               (http level)
#   wa_pair_jwt_secret_file, add_header X-Worker $pid     (server level)
#   /pair      the dev backend, a fresh code each call
#   /failing   the dev backend answering 500
#   /down      a socket nobody listens on
#   /slow      the dev backend answering after 1 s, wa_pair_backend_timeout 200ms: 504
#   /zoned     /pair in zone "pairing" with wa_pair_limit interval=30s
#   /zoned-slow  the same zone, the dev backend answering after 2 s
#   /metrics   wa_pair_metrics;     /report/  the reports of --- init

our $Helpers = <<'_EOC_';
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    add_header X-Worker $pid always;
    # A request is counted when nginx logs it. With lingering close, nginx half-closes the
    # connection first and logs when the client has closed too, so a scrape sent right after
    # an answer's end could come before the count; without it, nginx logs, then closes.
    lingering_close off;
    location = /pair {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
    location = /failing {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=500;
    }
    location = /down {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_WA_DIR/nobody-listens.sock:/v1/pair-code;
    }
    location = /slow {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?delay=1;
        wa_pair_backend_timeout 200ms;
    }
    location = /zoned {
        wa_pair;
        wa_pair_zone_use pairing;
        wa_pair_limit interval=30s;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
    location = /zoned-slow {
        wa_pair;
        wa_pair_zone_use pairing;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?delay=2&pair_code=WA1T1234;
    }
    location = /metrics {
        wa_pair_metrics;
    }
    location /report/ {
        alias $TEST_NGINX_WA_DIR/;
        default_type text/plain;
    }
_EOC_

# The location that a reload adds or removes in TEST 4 (the block's init rewrites the file).
WaPairTest::write_test_file('extra.conf', main::extra_location('/extra-a'));

sub main::extra_location {
    return "location = $_[0] { wa_pair; wa_pair_backend http://unix:$ENV{TEST_NGINX_BACKEND_SOCK}:/v1/pair-code; }\n";
}

# The samples of a scrape that a report shows: the counters and the histograms' counts (not
# their buckets and sums, which depend on timing, nor the zones' byte counts).
sub main::counted {
    my ($samples, $families) = @_;
    return grep { /^(?:$families)[{ ]/ && !/_bucket\{|_sum\{|^wa_pair_zone_(?:bytes_used|size_bytes)\{/ } @$samples;
}

sub main::zone_bytes {
    my ($samples) = @_;
    my $used = WaPairMetricsTest::value($samples, 'wa_pair_zone_bytes_used{zone="pairing"}') // 'none';
    my $size = WaPairMetricsTest::value($samples, 'wa_pair_zone_size_bytes{zone="pairing"}') // 'none';
    return ($used =~ /^\d+$/ && $size =~ /^\d+$/ && $used > 0 && $used < $size ? 'some used' : "used $used") . ", of $size";
}

# One round of TEST 1's mix; returns the statuses that were not as expected, and the workers.
sub main::mix {
    my ($round, $workers) = @_;
    my $auth = WaPairTest::auth_header(device_id => "dev-mix-$round");
    my $bad_jwt = 'Authorization: Bearer ' . WaPairTest::token(key => 'wrong');
    my @sends = (
        ['/pair', 200, auth => $auth],
        ['/pair', 200, auth => $auth],
        ['/pair', 400, auth => $auth, phone => '0812'],
        ['/pair', 401],
        ['/pair', 401, auth => $bad_jwt],
        ['/pair', 401, auth => 'Authorization: Bearer not-a-jwt-key'],
        ['/pair', 405, auth => $auth, method => 'GET'],
        ['/failing', 500, auth => $auth],
        ['/down', 503, auth => $auth],
        ['/slow', 504, auth => $auth],
        # a call, its code reused, then another number within the device's interval
        ['/zoned', 200, auth => $auth, phone => "628200000000$round"],
        ['/zoned', 200, auth => $auth, phone => "628200000000$round"],
        ['/zoned', 429, auth => $auth, phone => '6282000000009'],
    );
    my @wrong;
    for my $s (@sends) {
        my ($uri, $want, %o) = @$s;
        my ($status, $worker) = WaPairMetricsTest::post($uri, %o);
        push @wrong, "$uri answered $status, expected $want" if $status ne $want;
        $workers->{$worker} = 1;
    }
    return @wrong;
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => "    wa_pair_zone pairing:1m;\n" . ($block->http_config // ''));
    $block->set_value(config => ($block->config // '') . $Helpers) unless defined $block->must_die;
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()))
        unless defined $block->must_die;
});

master_on();
workers(2);
check_accum_error_log();   # --- error_log: anywhere in the block's log, --- init included
no_shuffle();
run_tests();

__DATA__

=== TEST 1: every count matches the requests sent, summed over two workers and a reload
The same mix is sent before and after a reload (so by at least two worker processes, the old
ones gone when the new one scrapes): two codes, a bad phone, the three kinds of 401, a GET,
an engine failing, one unreachable, one timing out, and in the zone a call, its reuse and a
refusal by the interval. Each histogram counts its location's calls; all but /down's reached
the engine, which counts them too.
--- init
WaPairTest::backend_reset();
my %before; my %after;
my @wrong = main::mix(1, \%before);
WaPairZoneTest::reload_nginx();
push @wrong, main::mix(2, \%after);
my $samples = WaPairMetricsTest::samples(WaPairMetricsTest::scrape());
my $histograms = 0;
$histograms += WaPairMetricsTest::value($samples, qq(wa_pair_backend_duration_seconds_count{location="$_"})) // 0
    for qw(/pair /failing /slow /zoned);
my $engine = WaPairTest::backend_stats()->{requests};
my $slow_fast = WaPairMetricsTest::value($samples, 'wa_pair_backend_duration_seconds_bucket{le="0.1",location="/slow"}');
my $slow_in = WaPairMetricsTest::value($samples, 'wa_pair_backend_duration_seconds_bucket{le="0.25",location="/slow"}');
my $slow_inf = WaPairMetricsTest::value($samples, 'wa_pair_backend_duration_seconds_bucket{le="+Inf",location="/slow"}');
my @slow_bounds = grep { /^wa_pair_backend_duration_seconds_bucket\{le="([^"]+)",location="\/slow"\}/ } @$samples;
WaPairMetricsTest::report('mix',
    @wrong ? @wrong : 'every answer as expected',
    (grep({ $before{$_} } keys %after) ? 'a worker served before and after the reload' : 'new workers after the reload'),
    "engine calls: the engine received $engine, the histograms of its locations count $histograms",
    'zone bytes: ' . main::zone_bytes($samples),
    "/slow (timeout 200ms): ${slow_in} calls took 0.1 to 0.25 s, $slow_fast less; buckets shown: "
        . scalar(@slow_bounds) . ", +Inf $slow_inf",
    main::counted($samples, 'wa_pair_\w+_total|wa_pair_backend_duration_seconds_count|wa_pair_zone_\w+|# family'));
--- request
GET /report/mix.txt
--- response_body
every answer as expected
new workers after the reload
engine calls: the engine received 10, the histograms of its locations count 10
zone bytes: some used, of 1048576
/slow (timeout 200ms): 2 calls took 0.1 to 0.25 s, 0 less; buckets shown: 7, +Inf 2
# family wa_pair_auth_failures counter
# family wa_pair_backend_calls counter
# family wa_pair_backend_duration_seconds histogram
# family wa_pair_limited counter
# family wa_pair_requests counter
# family wa_pair_zone_bytes_used gauge
# family wa_pair_zone_calls_in_flight gauge
# family wa_pair_zone_devices gauge
# family wa_pair_zone_evictions counter
# family wa_pair_zone_numbers gauge
# family wa_pair_zone_size_bytes gauge
# family wa_pair_zone_waiters gauge
wa_pair_auth_failures_total{location="/down",method="api_key"} 0
wa_pair_auth_failures_total{location="/down",method="jwt"} 0
wa_pair_auth_failures_total{location="/down",method="missing"} 0
wa_pair_auth_failures_total{location="/failing",method="api_key"} 0
wa_pair_auth_failures_total{location="/failing",method="jwt"} 0
wa_pair_auth_failures_total{location="/failing",method="missing"} 0
wa_pair_auth_failures_total{location="/pair",method="api_key"} 2
wa_pair_auth_failures_total{location="/pair",method="jwt"} 2
wa_pair_auth_failures_total{location="/pair",method="missing"} 2
wa_pair_auth_failures_total{location="/slow",method="api_key"} 0
wa_pair_auth_failures_total{location="/slow",method="jwt"} 0
wa_pair_auth_failures_total{location="/slow",method="missing"} 0
wa_pair_auth_failures_total{location="/zoned",method="api_key"} 0
wa_pair_auth_failures_total{location="/zoned",method="jwt"} 0
wa_pair_auth_failures_total{location="/zoned",method="missing"} 0
wa_pair_auth_failures_total{location="/zoned-slow",method="api_key"} 0
wa_pair_auth_failures_total{location="/zoned-slow",method="jwt"} 0
wa_pair_auth_failures_total{location="/zoned-slow",method="missing"} 0
wa_pair_backend_calls_total{location="/down",protocol="native",result="backend_unavailable"} 2
wa_pair_backend_calls_total{location="/failing",protocol="native",result="backend_failed"} 2
wa_pair_backend_calls_total{location="/pair",protocol="native",result="ok"} 4
wa_pair_backend_calls_total{location="/slow",protocol="native",result="backend_timeout"} 2
wa_pair_backend_calls_total{location="/zoned",protocol="native",result="ok"} 2
wa_pair_backend_duration_seconds_count{location="/down"} 2
wa_pair_backend_duration_seconds_count{location="/failing"} 2
wa_pair_backend_duration_seconds_count{location="/pair"} 4
wa_pair_backend_duration_seconds_count{location="/slow"} 2
wa_pair_backend_duration_seconds_count{location="/zoned"} 2
wa_pair_backend_duration_seconds_count{location="/zoned-slow"} 0
wa_pair_limited_total{limit="cooldown",location="/zoned"} 0
wa_pair_limited_total{limit="cooldown",location="/zoned-slow"} 0
wa_pair_limited_total{limit="in_progress",location="/zoned"} 0
wa_pair_limited_total{limit="in_progress",location="/zoned-slow"} 0
wa_pair_limited_total{limit="interval",location="/zoned"} 2
wa_pair_limited_total{limit="interval",location="/zoned-slow"} 0
wa_pair_limited_total{limit="numbers",location="/zoned"} 0
wa_pair_limited_total{limit="numbers",location="/zoned-slow"} 0
wa_pair_limited_total{limit="per_device",location="/zoned"} 0
wa_pair_limited_total{limit="per_device",location="/zoned-slow"} 0
wa_pair_limited_total{limit="per_phone",location="/zoned"} 0
wa_pair_limited_total{limit="per_phone",location="/zoned-slow"} 0
wa_pair_limited_total{limit="zone_full",location="/zoned"} 0
wa_pair_limited_total{limit="zone_full",location="/zoned-slow"} 0
wa_pair_requests_total{location="/down",outcome="backend_unavailable",status="503"} 2
wa_pair_requests_total{location="/failing",outcome="backend_failed",status="500"} 2
wa_pair_requests_total{location="/pair",outcome="bad_request",status="400"} 2
wa_pair_requests_total{location="/pair",outcome="method_not_allowed",status="405"} 2
wa_pair_requests_total{location="/pair",outcome="ok",status="200"} 4
wa_pair_requests_total{location="/pair",outcome="unauthorized",status="401"} 6
wa_pair_requests_total{location="/slow",outcome="backend_timeout",status="504"} 2
wa_pair_requests_total{location="/zoned",outcome="ok",status="200"} 4
wa_pair_requests_total{location="/zoned",outcome="rate_limited",status="429"} 2
wa_pair_zone_calls_in_flight{zone="pairing"} 0
wa_pair_zone_devices{zone="pairing"} 2
wa_pair_zone_evictions_total{zone="pairing"} 0
wa_pair_zone_numbers{zone="pairing"} 2
wa_pair_zone_waiters{zone="pairing"} 0



=== TEST 2: a call in flight: the zone's gauges count it and its waiters in every worker
One client's call takes two seconds; meanwhile the same device asks again twice for the same
number (two waiters, in whichever workers), one of them leaves, and another number gets 409
(in_progress). The scrape during the call counts one call and one waiter; after it, none.
--- init
WaPairTest::backend_reset();
my $auth = WaPairTest::auth_header(device_id => 'dev-flight');
WaPairTest::background_request('caller', WaPairZoneTest::pair_raw('/zoned-slow', device => 'dev-flight'));
WaPairTest::wait_backend_requests(1);
WaPairTest::background_request('waiter', WaPairZoneTest::pair_raw('/zoned-slow', device => 'dev-flight'));
my $leaver = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => WaPairTest::server_port(), Proto => 'tcp')
    or die "connect: $!";
my $raw = WaPairZoneTest::pair_raw('/zoned-slow', device => 'dev-flight');
my ($head, $body) = split /\n\n/, $raw, 2;
$head =~ s/\n/\r\n/g;
print {$leaver} "$head\r\nContent-Length: " . length($body) . "\r\n\r\n$body";
Time::HiRes::sleep(0.2);
my $both = WaPairMetricsTest::samples(WaPairMetricsTest::scrape());
close $leaver;
Time::HiRes::sleep(0.2);
my ($conflict) = WaPairMetricsTest::post('/zoned-slow', auth => $auth, phone => '6281234567899');
my $during = WaPairMetricsTest::samples(WaPairMetricsTest::scrape());
my $deadline = Time::HiRes::time() + 5;
Time::HiRes::sleep(0.05) until (WaPairTest::background_result('caller') ne '' && WaPairTest::background_result('waiter') ne '')
    || Time::HiRes::time() > $deadline;
my $after = WaPairMetricsTest::samples(WaPairMetricsTest::scrape());
my $g = sub { my ($s, $n) = @_; WaPairMetricsTest::value($s, "wa_pair_zone_$n\{zone=\"pairing\"}") };
my $ok = grep { WaPairTest::background_result($_) =~ m{^HTTP/1\.1 200 } } qw(caller waiter);
WaPairMetricsTest::report('flight',
    'with two waiters: calls in flight ' . $g->($both, 'calls_in_flight') . ', waiters ' . $g->($both, 'waiters'),
    'one left: calls in flight ' . $g->($during, 'calls_in_flight') . ', waiters ' . $g->($during, 'waiters')
        . ', devices ' . $g->($during, 'devices') . ", numbers " . $g->($during, 'numbers'),
    "another number: $conflict",
    'after the call: calls in flight ' . $g->($after, 'calls_in_flight') . ', waiters ' . $g->($after, 'waiters'),
    "clients with the code: $ok",
    'engine calls ' . WaPairTest::backend_stats()->{requests} . ', counted '
        . WaPairMetricsTest::value($after, 'wa_pair_backend_duration_seconds_count{location="/zoned-slow"}'),
    grep { /location="\/zoned-slow"/ } main::counted($after, 'wa_pair_limited_total|wa_pair_backend_calls_total'));
--- request
GET /report/flight.txt
--- response_body
with two waiters: calls in flight 1, waiters 2
one left: calls in flight 1, waiters 1, devices 1, numbers 1
another number: 409
after the call: calls in flight 0, waiters 0
clients with the code: 2
engine calls 1, counted 1
wa_pair_backend_calls_total{location="/zoned-slow",protocol="native",result="ok"} 1
wa_pair_limited_total{limit="cooldown",location="/zoned-slow"} 0
wa_pair_limited_total{limit="in_progress",location="/zoned-slow"} 1
wa_pair_limited_total{limit="interval",location="/zoned-slow"} 0
wa_pair_limited_total{limit="numbers",location="/zoned-slow"} 0
wa_pair_limited_total{limit="per_device",location="/zoned-slow"} 0
wa_pair_limited_total{limit="per_phone",location="/zoned-slow"} 0
wa_pair_limited_total{limit="zone_full",location="/zoned-slow"} 0



=== TEST 3: no label carries a device id, a phone number or a credential
Requests with distinctive device ids, numbers and credentials, good and bad, in every
location; the whole scrape must contain none of them, and every label value must be a name
from nginx.conf or one of the fixed values.
--- init
my @secrets;
for my $i (1 .. 3) {
    my $device = "device-label-probe-$i";
    my $phone = "62877700000$i";
    my $token = WaPairTest::token(device_id => $device);
    push @secrets, $device, $phone, $token, "probe-api-key-$i";
    for my $uri (qw(/pair /zoned /failing /slow)) {
        WaPairMetricsTest::post($uri, auth => "Authorization: Bearer $token", phone => $phone);
    }
    WaPairMetricsTest::post('/pair', auth => "Authorization: Bearer probe-api-key-$i", phone => $phone);
    WaPairMetricsTest::post('/pair', auth => "Authorization: Bearer ${token}x", phone => $phone);
}
my $text = WaPairMetricsTest::scrape();
my @found = grep { index($text, $_) >= 0 } @secrets;
my %allowed = (
    location => qr{^/(pair|failing|down|slow|zoned|zoned-slow)$},
    zone => qr{^pairing$},
    status => qr{^[1-5]\d\d$},
    outcome => qr{^[a-z_]+$},
    method => qr{^(jwt|api_key|missing)$},
    protocol => qr{^(native|origin|gowa|waha|wuzapi|evolution)$},
    result => qr{^[a-z_]+$},
    limit => qr{^(cooldown|per_device|per_phone|interval|numbers|in_progress|zone_full)$},
    le => qr{^(\d{1,4}(\.\d{1,3})?|\+Inf)$},   # the bounds: 0.005 .. 1000
);
my @odd;
for my $line (@{ WaPairMetricsTest::samples($text) }) {
    next if $line =~ /^# /;
    my ($labels) = $line =~ /\{(.*)\}/ or next;
    while ($labels =~ /(\w+)="((?:[^"\\]|\\.)*)"/g) {
        push @odd, "$1=$2" unless $allowed{$1} && $2 =~ $allowed{$1};
    }
}
WaPairMetricsTest::report('labels', 'probes sent: ' . scalar(@secrets),
    'found in the scrape: ' . (@found ? join(', ', @found) : 'none'),
    'label values not from the fixed sets: ' . (@odd ? join(', ', @odd) : 'none'));
--- request
GET /report/labels.txt
--- response_body
probes sent: 12
found in the scrape: none
label values not from the fixed sets: none



=== TEST 4: a reload that removes a location keeps its counts for when it comes back
A reload replaces /extra-a with /extra-b (an included file): /pair's counts go on, /extra-a
leaves the scrape, /extra-b starts at its own; a reload that brings /extra-a back shows its
old counts again.
--- config
    include $TEST_NGINX_WA_DIR/extra.conf;
--- init
my $auth = WaPairTest::auth_header(device_id => 'dev-reload');
WaPairMetricsTest::post($_, auth => $auth) for qw(/pair /extra-a /extra-a);
WaPairTest::write_test_file('extra.conf', main::extra_location('/extra-b'));
WaPairZoneTest::reload_nginx();
WaPairMetricsTest::post($_, auth => $auth) for qw(/pair /extra-b);
my $b = WaPairMetricsTest::samples(WaPairMetricsTest::scrape());
WaPairTest::write_test_file('extra.conf', main::extra_location('/extra-a'));
WaPairZoneTest::reload_nginx();
my $a = WaPairMetricsTest::samples(WaPairMetricsTest::scrape());
WaPairMetricsTest::report('reload',
    '-- with /extra-b', grep({ /location="\/(pair|extra-.)"/ } main::counted($b, 'wa_pair_requests_total')),
    '-- /extra-a again', grep({ /location="\/(pair|extra-.)"/ } main::counted($a, 'wa_pair_requests_total')));
--- request
GET /report/reload.txt
--- response_body
-- with /extra-b
wa_pair_requests_total{location="/extra-b",outcome="ok",status="200"} 1
wa_pair_requests_total{location="/pair",outcome="ok",status="200"} 2
-- /extra-a again
wa_pair_requests_total{location="/extra-a",outcome="ok",status="200"} 2
wa_pair_requests_total{location="/pair",outcome="ok",status="200"} 2



=== TEST 5: a location name with quotes and backslashes is one label value, read back whole
--- config
    location ~ "^/re\"gex\\d?$" {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- init
my $auth = WaPairTest::auth_header(device_id => 'dev-regex');
WaPairMetricsTest::post('/re%22gex1', auth => $auth);
my $s = WaPairMetricsTest::samples(WaPairMetricsTest::scrape());
WaPairMetricsTest::report('regex', grep { /location="\^/ } main::counted($s, 'wa_pair_requests_total'));
--- request
GET /report/regex.txt
--- response_body
wa_pair_requests_total{location="^/re\"gex\\d?$",outcome="ok",status="200"} 1



=== TEST 6: the scrape answers GET and HEAD in the text format 0.0.4, refuses other methods
--- request eval
["GET /metrics", "HEAD /metrics", "POST /metrics\n{}"]
--- error_code eval
[200, 200, 405]
--- response_headers eval
["Content-Type: text/plain; version=0.0.4", "Content-Type: text/plain; version=0.0.4", ""]
--- response_body_like eval
['^# HELP wa_pair_requests_total .*\n# TYPE wa_pair_requests_total counter\n', '^$', '405 Not Allowed']



=== TEST 7: wa_pair_metrics and wa_pair cannot share a location
--- config
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /both {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
        wa_pair_metrics;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_metrics" and "wa_pair" cannot share a location/



=== TEST 8: wa_pair_metrics is given once per location, in a location
--- config
    location = /m {
        wa_pair_metrics;
        wa_pair_metrics;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_metrics" directive is duplicate/



=== TEST 9: wa_pair_metrics is a location directive
--- config
    wa_pair_metrics;
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_metrics" directive is not allowed here/
