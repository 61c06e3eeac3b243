use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use WaPairEventsTest ();       # the engines' events as their code sends them, signed
use Test::Nginx::Socket 'no_plan';

# Each engine's events (docs/engines.md, "Events") against the pairing location of
# that engine's adapter, with tools/fake_engines.py playing the engine's pairing endpoint:
# origin's signed webhooks (X-Webhook-Signature: sha256=<HMAC-SHA256>, computed here) for each
# of its events, Evolution's qrcode.updated replacing the live code (the repeated request gets
# the new code without a call) and its connection.update, WAHA's session.status (HMAC-SHA512),
# wuzapi's form and JSON bodies (x-hmac-signature), GoWA's events (X-Hub-Signature-256).
#
# /pair/<engine> pairs through that engine's fake; /events/<engine> takes its events;
# /fake-stats/<engine> is how many pairing requests the fake received ({"requests": N}),
# reset before each block. Requests carry a token for dev-42 (a device, session and instance
# the fakes know) and Content-Type: application/json unless said otherwise.

start_fakes(origin => '', gowa => 'admin:s3cret', waha => 'waha-key-1',
            wuzapi => 'wuz-token-1', evolution => 'evo-key-1');

our $Helpers = <<'_EOC_';
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    wa_pair_zone_use pairing;
    add_header X-Cache $wa_pair_cache always;
    wa_pair_events_zone pairing;
    location = /pair/origin {
        wa_pair;
        wa_pair_backend_protocol origin;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_ORIGIN_SOCK;
    }
    location = /pair/evolution {
        wa_pair;
        wa_pair_backend_protocol evolution;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_EVOLUTION_SOCK:/instance/connect/$wa_pair_device_id;
        wa_pair_backend_header apikey evo-key-1;
    }
    location = /pair/waha {
        wa_pair;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK:/api/$wa_pair_device_id/auth/request-code;
        wa_pair_backend_header X-Api-Key waha-key-1;
    }
    location = /pair/wuzapi {
        wa_pair;
        wa_pair_backend_protocol wuzapi;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WUZAPI_SOCK;
        wa_pair_backend_header token wuz-token-1;
    }
    location = /pair/gowa {
        wa_pair;
        wa_pair_backend_protocol gowa;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_GOWA_SOCK;
        wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0";
    }
    location = /status {
        wa_pair_status;
    }
    location = /events/origin {
        wa_pair_events;
        wa_pair_events_protocol origin;
        wa_pair_events_secret_file $TEST_NGINX_EVENTS_SECRET_FILE;
    }
    location = /events/evolution {
        wa_pair_events;
        wa_pair_events_protocol evolution;
        wa_pair_events_header X-Evolution-Secret $TEST_NGINX_EVENTS_HEADER_VALUE;
    }
    location = /events/waha {
        wa_pair_events;
        wa_pair_events_protocol waha;
        wa_pair_events_secret_file $TEST_NGINX_EVENTS_SECRET_FILE;
    }
    location = /events/wuzapi {
        wa_pair_events;
        wa_pair_events_protocol wuzapi;
        wa_pair_events_secret_file $TEST_NGINX_EVENTS_SECRET_FILE;
    }
    location = /events/gowa {
        wa_pair_events;
        wa_pair_events_protocol gowa;
        wa_pair_events_secret_file $TEST_NGINX_EVENTS_SECRET_FILE;
    }
    location = /fake-stats/origin    { proxy_pass http://unix:$TEST_NGINX_FAKE_ORIGIN_SOCK:/_stats; }
    location = /fake-stats/evolution { proxy_pass http://unix:$TEST_NGINX_FAKE_EVOLUTION_SOCK:/_stats; }
    location = /fake-stats/waha      { proxy_pass http://unix:$TEST_NGINX_FAKE_WAHA_SOCK:/_stats; }
    location = /fake-stats/wuzapi    { proxy_pass http://unix:$TEST_NGINX_FAKE_WUZAPI_SOCK:/_stats; }
    location = /fake-stats/gowa      { proxy_pass http://unix:$TEST_NGINX_FAKE_GOWA_SOCK:/_stats; }
_EOC_

our $Linked = '{"status":false,"code":409,"message":"Conflict","error":"Device is already logged in"}';
our $Unsigned = '{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or missing event signature"}';
sub main::ok_code { qr/^\{"status":true,"code":200,"message":"Pairing code generated successfully","data":\{"pair_code":"\Q$_[0]\E","timeout":$_[1]\}\}$/ }
sub main::state { '^' . quotemeta(qq({"status":true,"code":200,"message":"Pairing status","data":{"state":"$_[0]"}})) . '$' }
sub main::pair { "POST /pair/$_[0]\n{\"phone\":\"6281234567890\"}" }
sub main::ev { WaPairEventsTest::post("/events/$_[0]", $_[1]) }
sub main::calls { '^' . quotemeta(qq({"requests": $_[0]})) . '$' }
sub main::sig { WaPairEventsTest::signed(@_) }

# the same body twice: the request and its signature are computed from one value
our %B;
sub main::b { my ($k, $v) = @_; $B{$k} = $v if defined $v; $B{$k} }

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => "    wa_pair_zone pairing:1m;\n" . ($block->http_config // ''));
    $block->set_value(config => ($block->config // '') . $Helpers);
    $block->set_value(init => join '', map { "WaPairTest::backend_call('POST', '/_reset', \$ENV{TEST_NGINX_FAKE_${_}_SOCK});\n" }
                                         qw(ORIGIN GOWA WAHA WUZAPI EVOLUTION))
        unless defined $block->init;
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'))
        unless defined $block->raw_request || defined $block->must_die;
    # nothing alarming may reach the error log, never the events secret, and the shared header
    # only in nginx's own debug dump of request headers
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming(),
                          $WaPairEventsTest::Secret, qr/wa_pair.*\Q$WaPairEventsTest::HeaderValue\E/));
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: origin: a signed connection.pair_success links the device: 409 without calling the origin (which would reconnect the session)
--- request eval
[main::pair('origin'), main::ev('origin', main::b(s => WaPairEventsTest::origin('connection.pair_success', 'dev-42'))),
 main::pair('origin'), "GET /status", "GET /fake-stats/origin"]
--- more_headers eval
["", main::sig('origin', main::b('s')), "", "", ""]
--- error_code eval
[200, 204, 409, 200, 200]
--- response_body_like eval
[main::ok_code('RGN1-2345', 150), '^$', "^\Q$main::Linked\E\$", main::state('linked'), main::calls(1)]



=== TEST 2: origin: connection.connected (is_logged_in) links the device; one that says it is not logged in does not
--- request eval
[main::pair('origin'),
 main::ev('origin', main::b(n => WaPairEventsTest::origin('connection.connected', 'dev-42', undef, { is_logged_in => JSON::PP::false, jid => '' }))),
 "GET /status",
 main::ev('origin', main::b(c => WaPairEventsTest::origin('connection.connected', 'dev-42', undef, { is_logged_in => JSON::PP::true, jid => '6281234567890', phone_number => '6281234567890' }))),
 main::pair('origin'), "GET /status", "GET /fake-stats/origin"]
--- more_headers eval
["", main::sig('origin', main::b('n')), "", main::sig('origin', main::b('c')), "", "", ""]
--- error_code eval
[200, 204, 200, 204, 409, 200, 200]
--- response_body_like eval
[main::ok_code('RGN1-2345', 150), '^$', '"state":"pending","timeout":1[45]\d\}\}$', '^$', "^\Q$main::Linked\E\$",
 main::state('linked'), main::calls(1)]
--- no_error_log
6281234567890



=== TEST 3: origin: connection.pair_error drops the live code: the next request calls the origin instead of reusing it
--- request eval
[main::pair('origin'), main::pair('origin'),
 main::ev('origin', main::b(e => WaPairEventsTest::origin('connection.pair_error', 'dev-42', undef, { error => 'pair error' }))),
 "GET /status", main::pair('origin'), "GET /fake-stats/origin"]
--- more_headers eval
["", "", main::sig('origin', main::b('e')), "", "", ""]
--- error_code eval
[200, 200, 204, 200, 200, 200]
--- response_headers eval
["X-Cache: miss", "X-Cache: hit", "", "", "X-Cache: miss", ""]
--- response_body_like eval
[main::ok_code('RGN1-2345', 150), main::ok_code('RGN1-2345', '1[45]\d'), '^$', main::state('none'),
 main::ok_code('RGN1-2345', 150), main::calls(2)]



=== TEST 4: origin: after connection.logged_out the origin is called again
--- request eval
[main::pair('origin'), main::ev('origin', main::b(s => WaPairEventsTest::origin('connection.pair_success', 'dev-42'))),
 main::pair('origin'), main::ev('origin', main::b(o => WaPairEventsTest::origin('connection.logged_out', 'dev-42'))),
 "GET /status", main::pair('origin'), "GET /fake-stats/origin"]
--- more_headers eval
["", main::sig('origin', main::b('s')), "", main::sig('origin', main::b('o')), "", "", ""]
--- error_code eval
[200, 204, 409, 204, 200, 200, 200]
--- response_body_like eval
[main::ok_code('RGN1-2345', 150), '^$', "^\Q$main::Linked\E\$", '^$', main::state('none'),
 main::ok_code('RGN1-2345', 150), main::calls(2)]



=== TEST 5: origin: a stale connection.pair_error replayed after the pair_success (its timestamp is older) leaves the device linked
The origin retries a webhook up to 3 times, seconds apart; a replayed body is correctly signed.
--- request eval
[main::pair('origin'),
 main::ev('origin', main::b(e => WaPairEventsTest::origin('connection.pair_error', 'dev-42', 1774451717.100))),
 main::ev('origin', main::b(s => WaPairEventsTest::origin('connection.pair_success', 'dev-42', 1774451718.200))),
 main::ev('origin', main::b('e')),
 "GET /status", main::pair('origin'), "GET /fake-stats/origin"]
--- more_headers eval
["", main::sig('origin', main::b('e')), main::sig('origin', main::b('s')), main::sig('origin', main::b('e')),
 "", "", ""]
--- error_code eval
[200, 204, 204, 204, 200, 409, 200]
--- response_body_like eval
[main::ok_code('RGN1-2345', 150), '^$', '^$', '^$', main::state('linked'), "^\Q$main::Linked\E\$", main::calls(1)]



=== TEST 6: origin: a webhook signed with another secret, or not signed, is a 401 and changes nothing
--- request eval
[main::pair('origin'), main::ev('origin', main::b(s => WaPairEventsTest::origin('connection.pair_success', 'dev-42'))),
 main::ev('origin', main::b('s')), "GET /status", main::pair('origin'), "GET /fake-stats/origin"]
--- more_headers eval
["", "X-Webhook-Signature: sha256=" . Digest::SHA::hmac_sha256_hex(main::b('s'), 'another-secret'),
 "X-Hub-Signature-256: " . (main::sig('origin', main::b('s')) =~ s/^[^:]+: //r), "", "", ""]
--- error_code eval
[200, 401, 401, 200, 200, 200]
--- response_body_like eval
[main::ok_code('RGN1-2345', 150), "^\Q$main::Unsigned\E\$", "^\Q$main::Unsigned\E\$",
 '"state":"pending","timeout":1[45]\d\}\}$', main::ok_code('RGN1-2345', '1[45]\d'), main::calls(1)]



=== TEST 7: Evolution: qrcode.updated replaces the live code: the repeated request is answered the new code, without a call
Evolution's own answer is kept 15 s at most (its age is unknown: never reused with the default
margin); the code its event announces is fresh and lives 40 s.
--- request eval
[main::pair('evolution'), main::ev('evolution', main::b(q => WaPairEventsTest::evolution_qr('dev-42', 'NEW23456'))),
 main::pair('evolution'), "GET /status", "GET /fake-stats/evolution"]
--- more_headers eval
["", "X-Evolution-Secret: $WaPairEventsTest::HeaderValue", "", "", ""]
--- error_code eval
[200, 204, 200, 200, 200]
--- response_headers eval
["X-Cache: miss", "", "X-Cache: hit", "", ""]
--- response_body_like eval
[main::ok_code('EV12-34XY', 15), '^$', main::ok_code('NEW2-3456', '(39|40)'), '"state":"pending","timeout":(39|40)\}\}$',
 main::calls(1)]



=== TEST 8: Evolution: without the shared header, or with a wrong one, an event is a 401 and changes nothing
--- request eval
[main::pair('evolution'), main::ev('evolution', main::b(q => WaPairEventsTest::evolution_qr('dev-42', 'NEW23456'))),
 main::ev('evolution', main::b('q')), main::ev('evolution', main::b('q')), "GET /status"]
--- more_headers eval
["", "", "X-Evolution-Secret: not-it", "X-Evolution-Secret: $WaPairEventsTest::HeaderValue\nX-Evolution-Secret: $WaPairEventsTest::HeaderValue", ""]
--- error_code eval
[200, 401, 401, 401, 200]
--- response_body_like eval
[main::ok_code('EV12-34XY', 15), ("^\Q$main::Unsigned\E\$") x 3, '"state":"pending","timeout":1[45]\}\}$']



=== TEST 9: Evolution: connection.update open links the instance, close ends it
--- request eval
[main::pair('evolution'), main::ev('evolution', WaPairEventsTest::evolution_connection('dev-42', 'open')),
 main::pair('evolution'), main::ev('evolution', WaPairEventsTest::evolution_connection('dev-42', 'close')),
 main::pair('evolution'), "GET /fake-stats/evolution"]
--- more_headers eval
["", "X-Evolution-Secret: $WaPairEventsTest::HeaderValue", "", "X-Evolution-Secret: $WaPairEventsTest::HeaderValue", "", ""]
--- error_code eval
[200, 204, 409, 204, 200, 200]
--- response_body_like eval
[main::ok_code('EV12-34XY', 15), '^$', "^\Q$main::Linked\E\$", '^$', main::ok_code('EV12-34XY', 15), main::calls(2)]



=== TEST 10: WAHA: session.status WORKING (signed HMAC-SHA512) links the session; FAILED ends it
--- request eval
[main::pair('waha'), main::ev('waha', main::b(w => WaPairEventsTest::waha_status('dev-42', 'WORKING', 1764900000000))),
 main::pair('waha'), main::ev('waha', main::b(f => WaPairEventsTest::waha_status('dev-42', 'FAILED', 1764900001000))),
 main::pair('waha'), "GET /fake-stats/waha"]
--- more_headers eval
["", main::sig('waha', main::b('w')) . "\nX-Webhook-Hmac-Algorithm: sha512", "",
 main::sig('waha', main::b('f')) . "\nX-Webhook-Hmac-Algorithm: sha512", "", ""]
--- error_code eval
[200, 204, 409, 204, 200, 200]
--- response_body_like eval
[main::ok_code('WAHA-2345', 80), '^$', "^\Q$main::Linked\E\$", '^$', main::ok_code('WAHA-2345', 80),
 '^\{"requests": 2\}$']



=== TEST 11: wuzapi: a signed form PairSuccess links the user, a JSON LoggedOut ends it
--- request eval
[main::pair('wuzapi'), main::ev('wuzapi', main::b(p => WaPairEventsTest::wuzapi_form('PairSuccess', 'dev-42'))),
 main::pair('wuzapi'), main::ev('wuzapi', main::b(o => WaPairEventsTest::wuzapi_json('LoggedOut', 'dev-42'))),
 main::pair('wuzapi'), "GET /fake-stats/wuzapi"]
--- more_headers eval
["", main::sig('wuzapi', main::b('p')) . "\nContent-Type: application/x-www-form-urlencoded", "",
 main::sig('wuzapi', main::b('o')), "", ""]
--- error_code eval
[200, 204, 409, 204, 200, 200]
--- response_body_like eval
[main::ok_code('WZP1-2345', 80), '^$', "^\Q$main::Linked\E\$", '^$', main::ok_code('WZP1-2345', 80), main::calls(2)]



=== TEST 12: GoWA: any of its events for the session (it sends none for pairing) proves it is logged in
--- request eval
[main::pair('gowa'), main::ev('gowa', main::b(m => WaPairEventsTest::gowa('message', 'dev-42'))),
 main::pair('gowa'), "GET /status", "GET /fake-stats/gowa"]
--- more_headers eval
["", main::sig('gowa', main::b('m')), "", "", ""]
--- error_code eval
[200, 204, 409, 200, 200]
--- response_body_like eval
[main::ok_code('GWA2-CDE3', 80), '^$', "^\Q$main::Linked\E\$", main::state('linked'), main::calls(1)]
