use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use WaPairEventsTest ();       # the engines' events, signed; the events secret file
use WaPairZoneTest ();         # synchronous requests for --- init
use Test::Nginx::Socket 'no_plan';

# Pairing completion at the edge, with the native protocol's events
# (docs/protocol.md): a signed event keeps the zone true after the engine answered a code.
# pair_success/connected link the device (its pairing requests answer 409 without a call
# until logged_out or wa_pair_linked_ttl), pair_error drops the live code, a "code" event
# replaces it; wa_pair_status shows it. Bad or missing signatures, malformed and oversized
# bodies change nothing.
#
# Every config gets, besides its own locations:
#   wa_pair_zone pairing:1m at http level; the JWT secret and wa_pair_zone_use at server level
#   X-Cache: $wa_pair_cache   on every answer
#   /pair                     the dev backend, always ABCD-1234 (120 s)
#   /status                   wa_pair_status
#   /events                   wa_pair_events (native), signed with the events secret
#   /backend-stats            the dev backend's call counter, reset before each block
# Requests carry a token for dev-42 and Content-Type: application/json unless said otherwise;
# main::ev(body) is the POST of an event and main::sig(body) its signature header.

our $Helpers = <<'_EOC_';
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    wa_pair_zone_use pairing;
    add_header X-Cache $wa_pair_cache always;
    location = /pair {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
    }
    location = /status {
        wa_pair_status;
    }
    location = /events {
        wa_pair_events;
        wa_pair_events_zone pairing;
        wa_pair_events_secret_file $TEST_NGINX_EVENTS_SECRET_FILE;
    }
    location = /backend-stats {
        proxy_pass http://unix:$TEST_NGINX_BACKEND_SOCK:/_stats;
    }
_EOC_

our $Code = '{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}';
our $Linked = '{"status":false,"code":409,"message":"Conflict","error":"Device is already logged in"}';
our $Unsigned = '{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or missing event signature"}';
sub main::state { qq({"status":true,"code":200,"message":"Pairing status","data":{"state":"$_[0]"}}) }
our $Pending = qr/^\{"status":true,"code":200,"message":"Pairing status","data":\{"state":"pending","timeout":1[12]\d\}\}$/;
sub main::pair { "POST /pair\n{\"phone\":\"" . ($_[0] || '6281234567890') . '"}' }
sub main::ev { WaPairEventsTest::post('/events', $_[0]) }
sub main::sig { WaPairEventsTest::signed('native', $_[0]) }
sub main::n { WaPairEventsTest::native(@_) }
sub main::calls { '^\{"requests":' . $_[0] . ',' }
# --- init: POSTs an event with the given header lines; returns nginx's whole answer
sub main::send_event {
    my ($uri, $body, $headers) = @_;
    return WaPairZoneTest::request_sync("POST $uri HTTP/1.1\nHost: localhost\n"
        . (defined $headers && length $headers ? "$headers\n" : '') . "Connection: close\n\n$body");
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => "    wa_pair_zone pairing:1m;\n" . ($block->http_config // ''));
    $block->set_value(config => ($block->config // '') . $Helpers);
    $block->set_value(init => 'WaPairTest::backend_reset();') unless defined $block->init;
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'))
        unless defined $block->raw_request || defined $block->must_die;
    # nothing alarming may reach the error log, and never the events secret
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming(),
                          $WaPairEventsTest::Secret));
});

check_accum_error_log();   # --- error_log: anywhere in the block's log
no_shuffle();
run_tests();

__DATA__

=== TEST 1: wa_pair_status: none before a code, pending with the seconds left once one is live
--- request eval
["GET /status", main::pair(), "GET /status", "GET /backend-stats"]
--- response_body_like eval
['^' . quotemeta(main::state('none')) . '$', "^\Q$main::Code\E\$", $main::Pending, main::calls(1)]



=== TEST 2: pair_success links the device: its pairing request is a 409 without an engine call, its status linked
--- request eval
[main::pair(), main::ev(main::n('pair_success', 'dev-42')), main::pair(), main::pair('6289999999999'),
 "GET /status", "GET /backend-stats"]
--- more_headers eval
["", main::sig(main::n('pair_success', 'dev-42')), "", "", "", ""]
--- error_code eval
[200, 204, 409, 409, 200, 200]
--- response_headers eval
["X-Cache: miss", "", "!X-Cache", "!X-Cache", "", ""]
--- response_body_like eval
["^\Q$main::Code\E\$", '^$', "^\Q$main::Linked\E\$", "^\Q$main::Linked\E\$",
 '^' . quotemeta(main::state('linked')) . '$', main::calls(1)]



=== TEST 3: connected links the device too, and logged_out ends it: the next request calls the engine again
--- request eval
[main::pair(), main::ev(main::n('connected', 'dev-42')), main::pair(), main::ev(main::n('logged_out', 'dev-42')),
 "GET /status", main::pair(), "GET /backend-stats"]
--- more_headers eval
["", main::sig(main::n('connected', 'dev-42')), "", main::sig(main::n('logged_out', 'dev-42')), "", "", ""]
--- error_code eval
[200, 204, 409, 204, 200, 200, 200]
--- response_headers eval
["X-Cache: miss", "", "", "", "", "X-Cache: miss", ""]
--- response_body_like eval
["^\Q$main::Code\E\$", '^$', "^\Q$main::Linked\E\$", '^$', '^' . quotemeta(main::state('none')) . '$',
 "^\Q$main::Code\E\$", main::calls(2)]



=== TEST 4: pair_error drops the live code: the next request asks the engine instead of reusing a dead code
--- request eval
[main::pair(), main::pair(), main::ev(main::n('pair_error', 'dev-42')), "GET /status", main::pair(),
 "GET /backend-stats"]
--- more_headers eval
["", "", main::sig(main::n('pair_error', 'dev-42')), "", "", ""]
--- error_code eval
[200, 200, 204, 200, 200, 200]
--- response_headers eval
["X-Cache: miss", "X-Cache: hit", "", "", "X-Cache: miss", ""]
--- response_body_like eval
["^\Q$main::Code\E\$", '"timeout":1[12]\d\}\}$', '^$', '^' . quotemeta(main::state('none')) . '$',
 "^\Q$main::Code\E\$", main::calls(2)]



=== TEST 5: a code event replaces the live code and restarts its lifetime: a repeated request is answered the new code without a call
--- request eval
[main::pair(), main::ev(main::n('code', 'dev-42', pair_code => 'WXYZ2345', timeout => 90)), main::pair(),
 "GET /backend-stats"]
--- more_headers eval
["", main::sig(main::n('code', 'dev-42', pair_code => 'WXYZ2345', timeout => 90)), "", ""]
--- error_code eval
[200, 204, 200, 200]
--- response_headers eval
["X-Cache: miss", "", "X-Cache: hit", ""]
--- response_body_like eval
["^\Q$main::Code\E\$", '^$',
 '^\{"status":true,"code":200,"message":"Pairing code generated successfully","data":\{"pair_code":"WXYZ-2345","timeout":(89|90)\}\}$',
 main::calls(1)]



=== TEST 6: a stale pair_error replayed after a pair_success changes nothing: the device stays linked
The pair_error is older (timestamp) than the pair_success applied after it: an engine's retry,
or a replay of a captured, correctly signed body.
--- request eval
[main::pair(), main::ev(main::n('pair_success', 'dev-42', timestamp => 1764900000200)),
 main::ev(main::n('pair_error', 'dev-42', timestamp => 1764900000100)),
 main::ev(main::n('logged_out', 'dev-42', timestamp => 1764900000150)),
 "GET /status", main::pair(), "GET /backend-stats"]
--- more_headers eval
["", main::sig(main::n('pair_success', 'dev-42', timestamp => 1764900000200)),
 main::sig(main::n('pair_error', 'dev-42', timestamp => 1764900000100)),
 main::sig(main::n('logged_out', 'dev-42', timestamp => 1764900000150)), "", "", ""]
--- error_code eval
[200, 204, 204, 204, 200, 409, 200]
--- response_body_like eval
["^\Q$main::Code\E\$", '^$', '^$', '^$', '^' . quotemeta(main::state('linked')) . '$',
 "^\Q$main::Linked\E\$", main::calls(1)]



=== TEST 7: a bad or missing signature is a 401 and changes nothing
Wrong secret, no header, the bare hex without "sha256=", a signature of another body, two
signature headers: the code stays live and is reused.
--- request eval
[main::pair(),
 main::ev(main::n('pair_success', 'dev-42')), main::ev(main::n('pair_success', 'dev-42')),
 main::ev(main::n('pair_success', 'dev-42')), main::ev(main::n('pair_success', 'dev-42')),
 main::ev(main::n('pair_success', 'dev-42')),
 "GET /status", main::pair(), "GET /backend-stats"]
--- more_headers eval
["",
 "X-Webhook-Signature: sha256=" . Digest::SHA::hmac_sha256_hex(main::n('pair_success', 'dev-42'), 'not-the-secret'),
 "",
 main::sig(main::n('pair_success', 'dev-42')) =~ s/sha256=//r,
 main::sig(main::n('pair_error', 'dev-42')),
 main::sig(main::n('pair_success', 'dev-42')) . "\n" . main::sig(main::n('pair_success', 'dev-42')),
 "", "", ""]
--- error_code eval
[200, 401, 401, 401, 401, 401, 200, 200, 200]
--- response_body_like eval
["^\Q$main::Code\E\$", ("^\Q$main::Unsigned\E\$") x 5, $main::Pending, '"timeout":1[12]\d\}\}$', main::calls(1)]



=== TEST 8: what an event did, or why it was refused, is logged at info, without the secret or the signature
nginx itself logs every request header at debug level, the signature's too (not a secret: the
MAC of a body the engine sent); the module's lines never hold it.
--- init
WaPairTest::backend_reset();
WaPairZoneTest::request_sync(WaPairZoneTest::pair_raw('/pair'));
my $ok = main::n('pair_success', 'dev-42');
my $sig = WaPairEventsTest::signed('native', $ok);
main::send_event('/events', main::n('pair_error', 'dev-42'), $sig);   # another body's signature
main::send_event('/events', $ok);                                     # none
main::send_event('/events', $ok, "$sig\n$sig");                       # two
main::send_event('/events', $ok, $sig);                               # applied
--- request
GET /status
--- response_body eval
main::state('linked')
--- error_log eval
[qr/\[info\] .*wa_pair_events: "pair_success" \(linked\) for device "dev-42": applied, client: /,
 qr/\[info\] .*wa_pair_events: refused an event: the signature does not match the body/,
 qr/\[info\] .*wa_pair_events: refused an event: no signature header/,
 qr/\[info\] .*wa_pair_events: refused an event: more than one signature header/]
--- no_error_log eval
[qr/wa_pair_events.*[0-9a-f]{64}/]



=== TEST 9: malformed event bodies are 400s and change nothing
Not JSON, not an object, a duplicate member, no event, an event that is not a string, no
device, a device of the wrong type, an empty one, one with a control character, a timestamp
that is not an integer, a code that is not one, a timeout out of range.
--- request eval
[main::pair(),
 map({ main::ev($_) }
     '{"event":"pair_success","device_id":"dev-42"',
     '["pair_success","dev-42"]',
     '{"event":"pair_success","device_id":"dev-42","device_id":"dev-7"}',
     '{"device_id":"dev-42"}',
     '{"event":1,"device_id":"dev-42"}',
     '{"event":"pair_success"}',
     '{"event":"pair_success","device_id":42}',
     '{"event":"pair_success","device_id":""}',
     "{\"event\":\"pair_success\",\"device_id\":\"dev\\u000a42\"}",
     '{"event":"pair_success","device_id":"dev-42","timestamp":"1764900000000"}',
     '{"event":"code","device_id":"dev-42","pair_code":"ABCD-123O","timeout":60}',
     '{"event":"code","device_id":"dev-42","pair_code":"WXYZ2345","timeout":0}'),
 "GET /status", main::pair(), "GET /backend-stats"]
--- more_headers eval
["",
 map({ main::sig($_) }
     '{"event":"pair_success","device_id":"dev-42"',
     '["pair_success","dev-42"]',
     '{"event":"pair_success","device_id":"dev-42","device_id":"dev-7"}',
     '{"device_id":"dev-42"}',
     '{"event":1,"device_id":"dev-42"}',
     '{"event":"pair_success"}',
     '{"event":"pair_success","device_id":42}',
     '{"event":"pair_success","device_id":""}',
     "{\"event\":\"pair_success\",\"device_id\":\"dev\\u000a42\"}",
     '{"event":"pair_success","device_id":"dev-42","timestamp":"1764900000000"}',
     '{"event":"code","device_id":"dev-42","pair_code":"ABCD-123O","timeout":60}',
     '{"event":"code","device_id":"dev-42","pair_code":"WXYZ2345","timeout":0}'),
 "", "", ""]
--- error_code eval
[200, (400) x 12, 200, 200, 200]
--- response_body_like eval
["^\Q$main::Code\E\$",
 ('^\{"status":false,"code":400,"message":"Bad request","error":"Event [^"]+"\}$') x 12,
 $main::Pending, '"pair_code":"ABCD-1234","timeout":1[12]\d\}\}$', main::calls(1)]



=== TEST 10: an oversized event body is a 413, with a Content-Length or chunked, and changes nothing
The limit is the smaller of client_max_body_size and client_body_buffer_size (8k here).
--- config
    client_body_buffer_size 8k;
--- request eval
[main::pair(), main::ev(main::n('pair_success', 'dev-42', pad => 'x' x 9000)), "GET /status", main::pair(),
 "GET /backend-stats"]
--- more_headers eval
["", main::sig(main::n('pair_success', 'dev-42', pad => 'x' x 9000)), "", "", ""]
--- error_code eval
[200, 413, 200, 200, 200]
--- response_body_like eval
["^\Q$main::Code\E\$", '"code":413,', $main::Pending, '"timeout":1[12]\d\}\}$', main::calls(1)]



=== TEST 11: a chunked event body over the limit is a 413 too
--- config
    client_body_buffer_size 8k;
--- raw_request eval
WaPairTest::raw_post('/events', headers => [WaPairEventsTest::signed('native', main::n('pair_success', 'dev-42', pad => 'x' x 9000))],
                     chunks => [main::n('pair_success', 'dev-42', pad => 'x' x 9000)])
--- error_code: 413



=== TEST 12: events the edge does not act on, and events for devices the zone does not hold, are 204s that change nothing
--- request eval
[main::pair(), main::ev(main::n('message', 'dev-42')), main::ev(main::n('pair_success', 'dev-7')),
 "GET /status", "GET /status"]
--- more_headers eval
["", main::sig(main::n('message', 'dev-42')), main::sig(main::n('pair_success', 'dev-7')), "",
 WaPairTest::auth_header(device_id => 'dev-7')]
--- error_code eval
[200, 204, 204, 200, 200]
--- response_body_like eval
["^\Q$main::Code\E\$", '^$', '^$', $main::Pending, '^' . quotemeta(main::state('none')) . '$']



=== TEST 13: wa_pair_events takes POST only
--- request
GET /events
--- error_code: 405
--- response_headers
Allow: POST
--- response_body eval
'{"status":false,"code":405,"message":"Method not allowed","error":"Only POST is allowed"}'



=== TEST 14: wa_pair_linked_ttl: a link the engine does not renew lapses, and the engine is asked again
--- config
    location = /events-1s {
        wa_pair_events;
        wa_pair_events_zone pairing;
        wa_pair_events_secret_file $TEST_NGINX_EVENTS_SECRET_FILE;
        wa_pair_linked_ttl 1s;
    }
--- init
WaPairTest::backend_reset();
my $body = main::n('pair_success', 'dev-42');
WaPairZoneTest::request_sync(WaPairZoneTest::pair_raw('/pair'));
my $answer = WaPairZoneTest::request_sync("POST /events-1s HTTP/1.1\nHost: localhost\n"
    . WaPairEventsTest::signed('native', $body) . "\nConnection: close\n\n$body");
die "event: $answer" unless $answer =~ m{^HTTP/1\.1 204 };
$answer = WaPairZoneTest::request_sync(WaPairZoneTest::pair_raw('/pair'));
die "linked: $answer" unless $answer =~ m{^HTTP/1\.1 409 };
Time::HiRes::sleep(1.2);
--- request eval
["GET /status", main::pair(), "GET /backend-stats"]
--- response_body_like eval
['^' . quotemeta(main::state('none')) . '$', "^\Q$main::Code\E\$", main::calls(2)]



=== TEST 15: wa_pair_status ?wait= must be 1 to 60 seconds
--- request eval
["GET /status?wait=0", "GET /status?wait=61", "GET /status?wait=5s", "GET /status?wait=", "GET /status?wait=05"]
--- error_code eval
[400, 400, 400, 400, 400]
--- response_body eval
[('{"status":false,"code":400,"message":"Bad request","error":"Parameter wait must be 1 to 60 seconds"}') x 5]



=== TEST 16: wa_pair_status authenticates as wa_pair does, and takes GET (and HEAD) only
--- request eval
["GET /status", "GET /status", "POST /status\n{}"]
--- more_headers eval
["!Authorization", "Authorization: Bearer not.a.token", ""]
--- error_code eval
[401, 401, 405]
--- response_headers eval
["WWW-Authenticate: Bearer", 'WWW-Authenticate: Bearer error="invalid_token"', "Allow: GET, HEAD"]
--- response_body eval
['{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or missing authentication"}',
 '{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"}',
 '{"status":false,"code":405,"message":"Method not allowed","error":"Only GET is allowed"}']



=== TEST 17: ?wait= answers the unchanged state when the time is up
--- request eval
[main::pair(), "GET /status?wait=1"]
--- response_body_like eval
["^\Q$main::Code\E\$", $main::Pending]
--- timeout: 5



=== TEST 18: ?wait= is woken by an event, long before its time is up
--- init
WaPairTest::backend_reset();
WaPairZoneTest::request_sync(WaPairZoneTest::pair_raw('/pair'));
WaPairTest::background_request('w1', "GET /status?wait=30 HTTP/1.1\nHost: localhost\n"
    . WaPairTest::auth_header() . "\nConnection: close\n\n");
Time::HiRes::sleep(0.3);
--- request eval
[main::ev(main::n('pair_success', 'dev-42')), "GET /bg/w1.out"]
--- more_headers eval
[main::sig(main::n('pair_success', 'dev-42')), ""]
--- config
    location /bg/ {
        alias $TEST_NGINX_WA_DIR/;
        default_type text/plain;
    }
--- wait: 0.2
--- error_code eval
[204, 200]
--- response_body_like eval
['^$', '"data":\{"state":"linked"\}\}$']



=== TEST 19: wa_pair_status answers with the contract's headers, and HEAD with those headers alone
--- request eval
["GET /status", "HEAD /status"]
--- error_code eval
[200, 200]
--- response_headers eval
["Content-Type: application/json\nCache-Control: no-store", "Content-Type: application/json\nCache-Control: no-store"]
--- response_headers_like eval
["X-Request-ID: [0-9a-f]{32}", "X-Request-ID: [0-9a-f]{32}"]
--- response_body eval
[main::state('none'), ""]
