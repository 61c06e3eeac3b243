use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use WaPairZoneTest ();         # synchronous requests and reloads for --- init
use Test::Nginx::Socket 'no_plan';

# The edge policy (docs/edge-policy.md), shared by every worker through wa_pair_zone: one backend call
# per device at a time (others for the same phone wait for its answer, another phone gets
# 409), a live code answered again, rate limits and the backend's 429 as cool-downs, state
# kept by reloads, and a full zone that keeps what the policy needs and fails closed.
#
# nginx runs a master and two workers. Every config gets, besides its own locations:
#   wa_pair_zone pairing:1m      at http level (a block's --- http_config may add zones)
#   wa_pair_jwt_secret_file, wa_pair_zone_use pairing   at server level
#   X-Cache: $wa_pair_cache      on every answer (miss, hit, coalesced)
#   /pair                        the dev backend, a fresh code each call
#   /slow, /slower               the dev backend answering in 1 s, 2 s, always WA1T-1234
#   /backend-stats               the dev backend's call counter, reset before each block
#   /bg/NAME                     the answer a background client of --- init got
# Requests carry a token for dev-42 and Content-Type: application/json unless said otherwise.

our $Helpers = <<'_EOC_';
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    wa_pair_zone_use pairing;
    add_header X-Cache $wa_pair_cache always;
    location = /pair {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
    location = /slow {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?delay=1&pair_code=WA1T1234;
    }
    location = /slower {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?delay=2&pair_code=WA1T1234;
    }
    location = /backend-stats {
        proxy_pass http://unix:$TEST_NGINX_BACKEND_SOCK:/_stats;
    }
    location /bg/ {
        alias $TEST_NGINX_WA_DIR/;
        default_type text/plain;
    }
_EOC_

our $Slow = '{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"WA1T-1234","timeout":120}}';
our $Code = qr/\{"status":true,"code":200,"message":"Pairing code generated successfully","data":\{"pair_code":"[1-9A-HJ-NP-TV-Z]{4}-[1-9A-HJ-NP-TV-Z]{4}","timeout":120\}\}/;
our $TooMany = '{"status":false,"code":429,"message":"Too many requests","error":"Too many pairing requests"}';

# the body of a POST for a phone; main::pair(uri, phone, refresh)
sub main::pair {
    my ($uri, $phone, $refresh) = @_;
    $phone ||= '6281234567890';
    return "POST $uri\n{\"phone\":\"$phone\"" . ($refresh ? ',"refresh":true' : '') . '}';
}
sub main::calls { '^\{"requests":' . $_[0] . ',' }
sub main::bg { "GET /bg/$_[0].out" }
# --- init: N background clients for /slow or /slower (same device and phone), then waits
# until the first one's call has reached the backend
sub main::start_slow {
    my ($n, $uri) = @_;
    WaPairTest::backend_reset();
    for my $i (1 .. $n) {
        WaPairTest::background_request("c$i", WaPairZoneTest::pair_raw($uri || '/slow'));
    }
    WaPairTest::wait_backend_requests(1);
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => "    wa_pair_zone pairing:1m;\n" . ($block->http_config // ''));
    $block->set_value(config => $block->config . $Helpers) if defined $block->config;
    $block->set_value(config => $Helpers) unless defined $block->config;
    $block->set_value(init => 'WaPairTest::backend_reset();') unless defined $block->init;
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'))
        unless defined $block->raw_request || defined $block->must_die;
    # nothing alarming may reach the error log, whatever the block proves
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

master_on();
workers(2);
check_accum_error_log();   # --- error_log: anywhere in the block's log, --- init included
no_shuffle();
run_tests();

__DATA__

=== TEST 1: concurrent requests for one device and phone make exactly one backend call
Six clients at once (five from --- init, then the block's own): all get the one code, one
of them as the caller ("miss"), the others "coalesced".
--- init
main::start_slow(5, '/slower');
--- request eval
[main::pair('/slower'), "GET /backend-stats",
 main::bg('c1'), main::bg('c2'), main::bg('c3'), main::bg('c4'), main::bg('c5')]
--- wait: 0.1
--- response_headers eval
["X-Cache: coalesced", "", "", "", "", "", ""]
--- response_body_like eval
["^\Q$main::Slow\E\$", main::calls(1),
 ("^HTTP/1\\.1 200 OK\r\n.*X-Cache: (miss|coalesced)\r\n.*\Q$main::Slow\E\$") x 5]



=== TEST 2: another phone for the device while its call is in flight gets 409
--- init
main::start_slow(1);
--- request eval
[main::pair('/slow', '6281234567899'), main::bg('c1'), "GET /backend-stats"]
--- wait: 1.5
--- error_code eval
[409, 200, 200]
--- response_body_like eval
['^\{"status":false,"code":409,"message":"Conflict","error":"A pairing request for this device is already in progress"\}$',
 "^HTTP/1\\.1 200 OK\r\n.*X-Cache: miss\r\n.*\Q$main::Slow\E\$",
 main::calls(1)]



=== TEST 3: another device asking for the same phone meanwhile is not held up
--- init
main::start_slow(1);
--- more_headers eval
[WaPairTest::auth_header(device_id => 'dev-7')]
--- request eval
[main::pair('/pair')]
--- response_headers
X-Cache: miss
--- response_body_like eval
"^$main::Code\$"



=== TEST 4: a live code is answered again, with the seconds it has left
--- config
    location = /fixed {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
    }
--- request eval
[main::pair('/fixed'), main::pair('/fixed'), "GET /backend-stats"]
--- response_headers eval
["X-Cache: miss", "X-Cache: hit", ""]
--- response_body_like eval
['^\{"status":true,"code":200,"message":"Pairing code generated successfully","data":\{"pair_code":"ABCD-1234","timeout":120\}\}$',
 '^\{"status":true,"code":200,"message":"Pairing code generated successfully","data":\{"pair_code":"ABCD-1234","timeout":11[0-9]\}\}$',
 main::calls(1)]



=== TEST 5: "refresh": true asks the backend for a new code, which is then the one reused
--- request eval
[main::pair('/pair'), main::pair('/pair', undef, 1), main::pair('/pair'), "GET /backend-stats"]
--- response_headers eval
["X-Cache: miss", "X-Cache: miss", "X-Cache: hit", ""]
--- response_body_like eval
["^$main::Code\$", "^$main::Code\$", '"timeout":11[0-9]\}\}$', main::calls(2)]



=== TEST 6: a code is reused for its own phone only; a new number's code replaces it
--- request eval
[main::pair('/pair'), main::pair('/pair', '6281234567899'), main::pair('/pair'),
 main::pair('/pair'), "GET /backend-stats"]
--- response_headers eval
["X-Cache: miss", "X-Cache: miss", "X-Cache: miss", "X-Cache: hit", ""]
--- response_body_like eval
["^$main::Code\$", "^$main::Code\$", "^$main::Code\$", '"timeout":11[0-9]\}\}$', main::calls(3)]



=== TEST 7: wa_pair_reuse off asks the backend every time
--- config
    location = /no-reuse {
        wa_pair;
        wa_pair_reuse off;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- request eval
[main::pair('/no-reuse'), main::pair('/no-reuse'), "GET /backend-stats"]
--- response_headers eval
["X-Cache: miss", "X-Cache: miss", ""]
--- response_body_like eval
["^$main::Code\$", "^$main::Code\$", main::calls(2)]



=== TEST 8: a code with no more than wa_pair_reuse_margin left is not reused
A 15 s code with the default margin of 15 s is never reused; a 16 s one is, once.
--- config
    location = /short {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?timeout=15;
    }
    location = /longer {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?timeout=16;
        wa_pair_reuse_margin 5s;
    }
--- request eval
[main::pair('/short'), main::pair('/short'), main::pair('/longer', '6281234567899'),
 main::pair('/longer', '6281234567899'),
 "GET /backend-stats"]
--- response_headers eval
["X-Cache: miss", "X-Cache: miss", "X-Cache: miss", "X-Cache: hit", ""]
--- response_body_like eval
['"timeout":15\}\}$', '"timeout":15\}\}$', '"timeout":16\}\}$', '"timeout":1[0-5]\}\}$',
 main::calls(3)]



=== TEST 9: per_device: the third call within the hour is refused until the first leaves it
--- config
    location = /limited {
        wa_pair;
        wa_pair_reuse off;
        wa_pair_limit per_device=2/h;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- request eval
[main::pair('/limited'), main::pair('/limited', undef, 1), main::pair('/limited'),
 "GET /backend-stats"]
--- error_code eval
[200, 200, 429, 200]
--- raw_response_headers_like eval
["", "", "\r\nRetry-After: (3600|3599)\r\n", ""]
--- response_body_like eval
["^$main::Code\$", "^$main::Code\$", "^\Q$main::TooMany\E\$", main::calls(2)]



=== TEST 10: interval: a second call for the device within 30 s is refused, Retry-After 30
--- config
    location = /spaced {
        wa_pair;
        wa_pair_limit interval=30s;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- request eval
[main::pair('/spaced'), main::pair('/spaced', undef, 1), main::pair('/spaced'),
 "GET /backend-stats"]
--- error_code eval
[200, 429, 200, 200]
--- response_headers eval
["X-Cache: miss", "Retry-After: 30", "X-Cache: hit", ""]
--- response_body_like eval
["^$main::Code\$", "^\Q$main::TooMany\E\$", '"timeout":11[0-9]\}\}$', main::calls(1)]



=== TEST 11: per_phone counts the calls of every device for a number
--- config
    location = /per-phone {
        wa_pair;
        wa_pair_limit per_phone=1/10m;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- more_headers eval
[WaPairTest::auth_header(device_id => 'dev-1'), WaPairTest::auth_header(device_id => 'dev-2'),
 WaPairTest::auth_header(device_id => 'dev-2')]
--- request eval
[main::pair('/per-phone'), main::pair('/per-phone'), main::pair('/per-phone', '6281234567899')]
--- error_code eval
[200, 429, 200]
--- response_headers eval
["", "Retry-After: 600", ""]



=== TEST 12: a backend 429 starts the cool-down: the device and the phone wait without a call
--- config
    location = /busy {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=429&retry_after=7;
    }
--- more_headers eval
["", "", WaPairTest::auth_header(device_id => 'dev-9'), ""]
--- request eval
[main::pair('/busy'), main::pair('/busy', undef, 1), main::pair('/busy'), "GET /backend-stats"]
--- error_code eval
[429, 429, 429, 200]
--- raw_response_headers_like eval
["\r\nRetry-After: 7\r\n", "\r\nRetry-After: [67]\r\n", "\r\nRetry-After: [67]\r\n", ""]
--- response_body_like eval
["^\Q$main::TooMany\E\$", "^\Q$main::TooMany\E\$", "^\Q$main::TooMany\E\$", main::calls(1)]



=== TEST 13: a backend that cannot be reached asked WhatsApp for nothing: not counted
--- config
    location = /down {
        wa_pair;
        wa_pair_limit per_device=1/h;
        wa_pair_backend http://unix:$TEST_NGINX_NO_BACKEND_SOCK:/v1/pair-code;
    }
--- request eval
[main::pair('/down'), main::pair('/down')]
--- error_code eval
[503, 503]
--- response_headers eval
["X-Cache: miss", "X-Cache: miss"]



=== TEST 14: a failure is shared with the requests that waited for it, and not reused
--- config
    location = /slow-fail {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?delay=1&status=400&error=phone%20not%20on%20WhatsApp;
    }
--- init
WaPairTest::backend_reset();
WaPairTest::background_request('c1', WaPairZoneTest::pair_raw('/slow-fail'));
WaPairTest::wait_backend_requests(1);
--- request eval
[main::pair('/slow-fail'), main::bg('c1'), "GET /backend-stats"]
--- wait: 0.1
--- error_code eval
[400, 200, 200]
--- response_headers eval
["X-Cache: coalesced", "", ""]
--- response_body_like eval
['^\{"status":false,"code":400,"message":"Bad request","error":"phone not on WhatsApp"\}$',
 '^HTTP/1\.1 400 Bad Request\r\n.*X-Cache: miss\r\n.*"error":"phone not on WhatsApp"\}$',
 main::calls(1)]



=== TEST 15: a waiting client that leaves is cleaned up; the call goes on for the others
--- init
main::start_slow(1);
--- request eval
[main::pair('/slow'), main::bg('c1')]
--- abort
--- timeout: 0.3
--- wait: 1.5
--- error_code eval
["", 200]
--- response_body_like eval
["", "\r\n\r\n\Q$main::Slow\E\$"]
--- error_log
wa_pair zone: a waiting request ended before the answer



=== TEST 16: the caller's client leaving does not cancel the call: its code serves the retry
A double-click: the browser drops the first request and sends the second.
--- request eval
[main::pair('/slow'), main::pair('/slow'), "GET /backend-stats"]
--- abort
--- timeout: 0.3
--- wait: 1.5
--- error_code eval
["", 200, 200]
--- response_headers eval
["", "X-Cache: hit", ""]
--- response_body_like eval
["", '^\{"status":true,"code":200,"message":"Pairing code generated successfully","data":\{"pair_code":"WA1T-1234","timeout":11[0-9]\}\}$',
 main::calls(1)]



=== TEST 17: a reload keeps the zone: a new worker answers the code an old one got
--- skip_eval
4: $ENV{TEST_NGINX_USE_VALGRIND}
--- init
WaPairTest::backend_reset();
my $first = WaPairZoneTest::request_sync(WaPairZoneTest::pair_raw('/slow'));
die "first pairing failed: $first" unless $first =~ /"pair_code":"WA1T-1234","timeout":120/;
WaPairZoneTest::reload_nginx();
--- request eval
[main::pair('/slow'), "GET /backend-stats"]
--- response_headers eval
["X-Cache: hit", ""]
--- response_body_like eval
['"pair_code":"WA1T-1234","timeout":11[0-9]\}\}$', main::calls(1)]



=== TEST 18: across a reload, a new worker waits for the call an old worker is making
The old worker finishes the call it serves; the request that the new worker takes waits for
it in the shared zone: the cross-process case, made certain by the reload.
--- skip_eval
4: $ENV{TEST_NGINX_USE_VALGRIND}
--- init
main::start_slow(1, '/slower');
WaPairZoneTest::reload_nginx();
--- request eval
[main::pair('/slower'), "GET /backend-stats", main::bg('c1')]
--- wait: 0.1
--- response_headers eval
["X-Cache: coalesced", "", ""]
--- response_body_like eval
["^\Q$main::Slow\E\$", main::calls(1), "^HTTP/1\\.1 200 OK\r\n.*X-Cache: miss\r\n.*\Q$main::Slow\E\$"]



=== TEST 19: a full zone keeps every live code, refuses new devices with 503, and says so; authentication still comes first
Sixty devices in a 32k zone (room for about thirty), each with a live code: the first
device's code is still reused, a device that finds no room gets 503 with Retry-After.
--- http_config
    wa_pair_zone tiny:32k;
--- config
    location = /tiny {
        wa_pair;
        wa_pair_zone_use tiny;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- init
WaPairTest::backend_reset();
my %got;
for my $i (1 .. 60) {
    my $answer = WaPairZoneTest::request_sync(WaPairZoneTest::pair_raw('/tiny', device => "dev-fill-$i"));
    $got{ $answer =~ m{^HTTP/1\.1 (\d+)} ? $1 : 'none' }++;
}
die "expected codes, then refusals: " . join(' ', %got) unless $got{200} && $got{503} && $got{200} + $got{503} == 60;
--- more_headers eval
[WaPairTest::auth_header(device_id => 'dev-fill-1'), WaPairTest::auth_header(device_id => 'dev-new'),
 "Authorization: Bearer nope"]
--- request eval
[main::pair('/tiny'), main::pair('/tiny'), main::pair('/tiny')]
--- error_code eval
[200, 503, 401]
--- response_headers_like eval
["X-Cache: hit", "Retry-After: 1[0-2]\\d", ""]
--- error_log
wa_pair_zone "tiny" is full of entries the edge policy still needs



=== TEST 20: $wa_pair_cache is empty without a zone, in an access log too
--- http_config
    log_format cache '$wa_pair_cache';
--- config
    location = /no-zone {
        wa_pair;
        wa_pair_zone_use off;
        access_log logs/cache.log cache;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
    location = /logged {
        wa_pair;
        access_log logs/cache.log cache;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
    location = /cache-log {
        alias logs/cache.log;
    }
--- request eval
[main::pair('/no-zone'), main::pair('/no-zone'), main::pair('/logged'), main::pair('/logged'),
 "GET /cache-log"]
--- response_body_like eval
["^$main::Code\$", "^$main::Code\$", "^$main::Code\$", '"timeout":11[0-9]\}\}$',
 "^-\n-\nmiss\nhit\n\$"]



=== TEST 21: wa_pair_zone needs name:size
--- http_config
    wa_pair_zone pairing2;
--- config
--- must_die
--- error_log eval
qr/\[emerg\].*invalid value "pairing2" in "wa_pair_zone"/



=== TEST 22: wa_pair_zone refuses a bad size
--- http_config
    wa_pair_zone pairing2:lots;
--- config
--- must_die
--- error_log eval
qr/\[emerg\].*invalid zone size "pairing2:lots" in "wa_pair_zone"/



=== TEST 23: wa_pair_zone refuses a zone smaller than eight pages
--- http_config
    wa_pair_zone pairing2:16k;
--- config
--- must_die
--- error_log eval
qr/\[emerg\].*zone "pairing2:16k" of "wa_pair_zone" is too small/



=== TEST 24: a zone name is declared once
--- http_config
    wa_pair_zone pairing:1m;
--- config
--- must_die
--- error_log eval
qr/\[emerg\].*duplicate zone "pairing" in "wa_pair_zone"/



=== TEST 25: wa_pair_zone_use must name a declared zone
--- config
    location = /unknown {
        wa_pair;
        wa_pair_zone_use nosuch;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_zone_use" names an unknown zone "nosuch"/



=== TEST 26: wa_pair_limit without a zone would limit nothing: refused
--- config
    location = /nozone {
        wa_pair;
        wa_pair_zone_use off;
        wa_pair_limit per_device=5/h;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_limit" requires "wa_pair_zone_use"/



=== TEST 27: wa_pair_limit refuses an unknown parameter
--- config
    wa_pair_limit per_ip=5/h;
--- must_die
--- error_log eval
qr/\[emerg\].*invalid parameter "per_ip=5\/h" in "wa_pair_limit"/



=== TEST 28: wa_pair_limit refuses a count it cannot keep exactly
--- config
    wa_pair_limit per_device=100/d;
--- must_die
--- error_log eval
qr/\[emerg\].*invalid count in "per_device=100\/d" \(must be 1 to 16 calls, as in per_device=5\/h\) in "wa_pair_limit"/



=== TEST 29: wa_pair_limit refuses an unknown unit
--- config
    wa_pair_limit per_phone=5/w;
--- must_die
--- error_log eval
qr/\[emerg\].*invalid period in "per_phone=5\/w" .* in "wa_pair_limit"/



=== TEST 30: wa_pair_limit refuses a zero interval
--- config
    wa_pair_limit interval=0;
--- must_die
--- error_log eval
qr/\[emerg\].*invalid interval "interval=0" \(must be 1s to 1d\) in "wa_pair_limit"/



=== TEST 31: wa_pair_reuse_margin is at most a day
--- config
    wa_pair_reuse_margin 2d;
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_reuse_margin" directive must not exceed 1d/



=== TEST 32: wa_pair_zone is an http-level directive
--- config
    wa_pair_zone other:1m;
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_zone" directive is not allowed here/



=== TEST 33: directives inherit: limits and a zone from the server, reuse off from http
--- http_config
    wa_pair_reuse off;
--- config
    wa_pair_limit per_device=1/h;
    location = /inherit {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
    location = /reset {
        wa_pair;
        wa_pair_limit off;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- more_headers eval
["", "", WaPairTest::auth_header(device_id => 'dev-3'), WaPairTest::auth_header(device_id => 'dev-3')]
--- request eval
[main::pair('/inherit'), main::pair('/inherit'), main::pair('/reset'), main::pair('/reset')]
--- error_code eval
[200, 429, 200, 200]
--- response_headers eval
["X-Cache: miss", "", "X-Cache: miss", "X-Cache: miss"]
