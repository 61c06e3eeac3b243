use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use WaPairZoneTest ();         # synchronous requests, sprays of requests for --- init
use Test::Nginx::Socket 'no_plan';

# The edge policy fails closed, as limit_req does: a refused request stores nothing in the
# zone, a device holds at most 8 numbers, an entry the policy still needs (a limit, a live
# code, a call in flight) is never evicted, and when nothing evictable is left a request that
# needs a new entry gets 503 with Retry-After, never a call without the policy.
#
# Each block's --- init makes its calls and sprays (WaPairZoneTest::spray: one device, a new
# number per request, 4 keep-alive clients) and writes what they got to result.txt; the
# block's requests then check that the limits still hold and count the engine's calls.
# nginx runs a master and two workers.

our $Helpers = <<'_EOC_';
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /result {
        alias $TEST_NGINX_WA_DIR/result.txt;
    }
    location = /backend-stats {
        proxy_pass http://unix:$TEST_NGINX_BACKEND_SOCK:/_stats;
    }
    location /bg/ {
        alias $TEST_NGINX_WA_DIR/;
        default_type text/plain;
    }
_EOC_

our $TooMany = '{"status":false,"code":429,"message":"Too many requests","error":"Too many pairing requests"}';
our $Full = '{"status":false,"code":503,"message":"Service unavailable","error":"Pairing backend is unavailable"}';
our $Code = qr/\{"status":true,"code":200,"message":"Pairing code generated successfully","data":\{"pair_code":"[1-9A-HJ-NP-TV-Z]{4}-[1-9A-HJ-NP-TV-Z]{4}","timeout":120\}\}/;

sub main::pair { "POST $_[0]\n{\"phone\":\"" . ($_[1] || '6281234567890') . "\"}" }
sub main::calls { '^\{"requests":' . $_[0] . ',' }

# A pairing by `device` for `phone`, synchronously; dies unless it got `want`.
sub main::pair_as {
    my ($uri, $device, $phone, $want) = @_;
    my $answer = WaPairZoneTest::request_sync(WaPairZoneTest::pair_raw($uri, device => $device, phone => $phone));
    die "$device/$phone on $uri: expected $want, got: $answer" unless $answer =~ m{^HTTP/1\.1 $want };
}

sub main::record {
    my ($counts) = @_;
    WaPairTest::write_file("$WaPairTest::Dir/result.txt",
                           join('', map { "$_ x$counts->{$_}\n" } sort keys %$counts));
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => ($block->config // '') . $Helpers);
    $block->set_value(more_headers => with_headers($block->more_headers,
                          'Content-Type: application/json'));
    # nothing alarming may reach the error log, whatever the block proves
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

master_on();
workers(2);
check_accum_error_log();   # --- error_log: anywhere in the block's log, --- init included
no_shuffle();
run_tests();

__DATA__

=== TEST 1: per_device: 10,000 refused requests of device B with distinct numbers do not reset device A's limit (1m zone)
--- http_config
    wa_pair_zone spray:1m;
--- config
    location = /p {
        wa_pair;
        wa_pair_zone_use spray;
        wa_pair_limit per_device=1/h;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- init
WaPairTest::backend_reset();
main::pair_as('/p', 'dev-a', '6281111111111', 200);
main::pair_as('/p', 'dev-b', '6282222222222', 200);
main::record(WaPairZoneTest::spray('/p', device => 'dev-b', count => 10000));
--- more_headers eval
[WaPairTest::auth_header(device_id => 'dev-a'), "", ""]
--- request eval
[main::pair('/p', '6283333333333'), "GET /result", "GET /backend-stats"]
--- error_code eval
[429, 200, 200]
--- response_body_like eval
["^\Q$main::TooMany\E\$", "^429 x10000\n\$", main::calls(2)]
--- timeout: 60



=== TEST 2: the same in the smallest zone (32k)
--- http_config
    wa_pair_zone spray:32k;
--- config
    location = /p {
        wa_pair;
        wa_pair_zone_use spray;
        wa_pair_limit per_device=1/h;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- init
WaPairTest::backend_reset();
main::pair_as('/p', 'dev-a', '6281111111111', 200);
main::pair_as('/p', 'dev-b', '6282222222222', 200);
main::record(WaPairZoneTest::spray('/p', device => 'dev-b', count => 10000));
--- more_headers eval
[WaPairTest::auth_header(device_id => 'dev-a'), "", ""]
--- request eval
[main::pair('/p', '6283333333333'), "GET /result", "GET /backend-stats"]
--- error_code eval
[429, 200, 200]
--- response_body_like eval
["^\Q$main::TooMany\E\$", "^429 x10000\n\$", main::calls(2)]
--- timeout: 60



=== TEST 3: per_phone: device B's spray of new numbers holds 8 of them, then is refused; A's number stays limited for every device (1m zone)
--- http_config
    wa_pair_zone spray:1m;
--- config
    location = /p {
        wa_pair;
        wa_pair_zone_use spray;
        wa_pair_limit per_phone=1/h;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- init
WaPairTest::backend_reset();
main::pair_as('/p', 'dev-a', '6281111111111', 200);
main::record(WaPairZoneTest::spray('/p', device => 'dev-b', count => 10000, clients => 1));
--- more_headers eval
[WaPairTest::auth_header(device_id => 'dev-c'), "", ""]
--- request eval
[main::pair('/p', '6281111111111'), "GET /result", "GET /backend-stats"]
--- error_code eval
[429, 200, 200]
--- response_body_like eval
["^\Q$main::TooMany\E\$", "^200 x8\n429 x9992\n\$", main::calls(9)]
--- timeout: 60



=== TEST 4: the same in the smallest zone (32k)
--- http_config
    wa_pair_zone spray:32k;
--- config
    location = /p {
        wa_pair;
        wa_pair_zone_use spray;
        wa_pair_limit per_phone=1/h;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- init
WaPairTest::backend_reset();
main::pair_as('/p', 'dev-a', '6281111111111', 200);
main::record(WaPairZoneTest::spray('/p', device => 'dev-b', count => 10000, clients => 1));
--- more_headers eval
[WaPairTest::auth_header(device_id => 'dev-c'), "", ""]
--- request eval
[main::pair('/p', '6281111111111'), "GET /result", "GET /backend-stats"]
--- error_code eval
[429, 200, 200]
--- response_body_like eval
["^\Q$main::TooMany\E\$", "^200 x8\n429 x9992\n\$", main::calls(9)]
--- timeout: 60



=== TEST 5: a zone full of entries the policy needs refuses new ones with 503 and Retry-After, keeps every limit, and names itself in the error log once
Devices each pair once in a 32k zone under per_device=1/h (every entry holds a limit for an
hour) until the zone is full. The first device is still limited, a new one is refused with
503 and no call, and the engine was called exactly once per 200.
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
main::record(WaPairZoneTest::spray('/p', device => 'dev-fill', count => 400, clients => 1, devices => 1));
my $stats = WaPairTest::backend_stats();
my ($ok) = WaPairTest::slurp("$WaPairTest::Dir/result.txt") =~ /^200 x(\d+)/m;
die "the engine was called $stats->{requests} times for " . ($ok // 0) . " codes\n"
    unless defined $ok && $stats->{requests} == $ok && $ok > 10 && $ok < 400;
--- more_headers eval
[WaPairTest::auth_header(device_id => 'dev-fill-0'), WaPairTest::auth_header(device_id => 'dev-new'), ""]
--- request eval
[main::pair('/p', '6289999999999'), main::pair('/p', '6289999999999'), "GET /result"]
--- error_code eval
[429, 503, 200]
--- response_headers_like eval
["Retry-After: 3[56]\\d\\d", "Retry-After: 3[56]\\d\\d", ""]
--- response_body_like eval
["^\Q$main::TooMany\E\$", "^\Q$main::Full\E\$", "^200 x\\d+\n503 x\\d+\n\$"]
--- error_log eval
qr/\[error\].*wa_pair_zone "tiny" is full of entries the edge policy still needs/
--- timeout: 60



=== TEST 6: waiters under the pressure of a spray from many devices make one call, and all get its code
A slow call (1 s) for dev-42 with 10 requests waiting for it, while 600 other devices pair
in a 32k zone: the waiting requests keep their entry, the engine gets one call for them.
--- http_config
    wa_pair_zone tiny:32k;
--- config
    location = /p {
        wa_pair;
        wa_pair_zone_use tiny;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=409;
    }
    location = /slow {
        wa_pair;
        wa_pair_zone_use tiny;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?delay=1&pair_code=WA1T1234;
    }
    location = /slow-calls {
        return 200 "ok";
    }
--- init
WaPairTest::backend_reset();
for my $i (1 .. 11) {
    WaPairTest::background_request("w$i", WaPairZoneTest::pair_raw('/slow'));
}
WaPairTest::wait_backend_requests(1);
my $spray = WaPairZoneTest::spray('/p', device => 'dev-press', count => 600, clients => 2, devices => 1);
for my $i (1 .. 11) {   # every waiter's answer is in
    my $deadline = time + 10;
    Time::HiRes::sleep(0.1) until WaPairTest::background_result("w$i") =~ /\r\n\r\n./s || time > $deadline;
}
my %answers;
$answers{ WaPairTest::background_result("w$_") =~ /"pair_code":"WA1T-1234"/ ? 'code' : 'other' }++ for 1 .. 11;
my $by_path = WaPairTest::backend_stats()->{by_path};
main::record({ %answers, slow_calls => $by_path->{'/v1/pair-code?delay=1&pair_code=WA1T1234'} // 0 });
--- request
GET /result
--- response_body
code x11
slow_calls x1
--- timeout: 60
