use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use WaPairEventsTest ();       # the events secret file, signed events
use Test::Nginx::Socket 'no_plan';

# The directives of wa_pair_events and wa_pair_status: every configuration that could not
# work is an [emerg] at start (as `nginx -t` reports it) that names what is wrong, and the
# events directives but wa_pair_events itself are inherited from http and server level.
#
#   wa_pair_events;                           location only; needs a zone and an authentication
#   wa_pair_events_protocol native|origin|gowa|waha|wuzapi|evolution;
#   wa_pair_events_secret_file PATH;          not for evolution (it signs nothing)
#   wa_pair_events_header NAME VALUE;
#   wa_pair_events_zone NAME;                 a zone declared by wa_pair_zone
#   wa_pair_linked_ttl TIME;                  1s..30d
#   wa_pair_status;                           location only; needs wa_pair_zone_use

our $Http = "    wa_pair_zone pairing:1m;\n";

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => $Http . ($block->http_config // ''));
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming(),
                          $WaPairEventsTest::Secret));
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: wa_pair_events without wa_pair_events_zone
--- config
    location = /events {
        wa_pair_events;
        wa_pair_events_secret_file $TEST_NGINX_EVENTS_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_events" requires "wa_pair_events_zone"/



=== TEST 2: wa_pair_events_zone naming a zone no wa_pair_zone declares
--- config
    location = /events {
        wa_pair_events;
        wa_pair_events_zone nowhere;
        wa_pair_events_secret_file $TEST_NGINX_EVENTS_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_events_zone" names an unknown zone "nowhere": declare it with "wa_pair_zone"/



=== TEST 3: wa_pair_events with neither a secret file nor a shared header
--- config
    location = /events {
        wa_pair_events;
        wa_pair_events_zone pairing;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_events" requires "wa_pair_events_secret_file" \(the engine's webhook signature\) or "wa_pair_events_header"/



=== TEST 4: a secret file for Evolution, which signs nothing
--- config
    location = /events {
        wa_pair_events;
        wa_pair_events_protocol evolution;
        wa_pair_events_zone pairing;
        wa_pair_events_secret_file $TEST_NGINX_EVENTS_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_events_secret_file": evolution does not sign its webhooks; authenticate them with "wa_pair_events_header"/



=== TEST 5: an unknown events protocol
--- config
    location = /events {
        wa_pair_events;
        wa_pair_events_protocol baileys;
        wa_pair_events_zone pairing;
        wa_pair_events_header X-Events-Key some-value;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid value "baileys" in "wa_pair_events_protocol" \(native, origin, gowa, waha, wuzapi or evolution\)/



=== TEST 6: an empty secret file, named by its path only
--- config
    location = /events {
        wa_pair_events;
        wa_pair_events_zone pairing;
        wa_pair_events_secret_file /dev/null;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_events_secret_file" file "\/dev\/null" is empty/



=== TEST 7: a secret file that does not exist
--- config
    location = /events {
        wa_pair_events;
        wa_pair_events_zone pairing;
        wa_pair_events_secret_file /nonexistent/events.key;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_events_secret_file" cannot open "\/nonexistent\/events\.key"/



=== TEST 8: a shared header whose name is not a header name, or whose value is empty
--- config
    location = /events {
        wa_pair_events;
        wa_pair_events_zone pairing;
        wa_pair_events_header "X-Key:" value;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid header name "X-Key:" in "wa_pair_events_header"/



=== TEST 9: a shared header with an empty value
--- config
    location = /events {
        wa_pair_events;
        wa_pair_events_zone pairing;
        wa_pair_events_header X-Key "";
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_events_header" needs a value that is not empty/



=== TEST 10: wa_pair_linked_ttl under 1s
--- config
    wa_pair_linked_ttl 0;
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_linked_ttl" directive must be between 1s and 30d/



=== TEST 11: wa_pair_linked_ttl over 30d
--- config
    wa_pair_linked_ttl 31d;
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_linked_ttl" directive must be between 1s and 30d/



=== TEST 12: wa_pair_status without wa_pair_zone_use
--- config
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /status {
        wa_pair_status;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_status" requires "wa_pair_zone_use"/



=== TEST 13: wa_pair and wa_pair_status in one location
--- config
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    wa_pair_zone_use pairing;
    location = /pair {
        wa_pair;
        wa_pair_status;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair", "wa_pair_events" and "wa_pair_status" need a location each/



=== TEST 14: wa_pair_events twice
--- config
    location = /events {
        wa_pair_events;
        wa_pair_events;
        wa_pair_events_zone pairing;
        wa_pair_events_secret_file $TEST_NGINX_EVENTS_SECRET_FILE;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_events" directive is duplicate/



=== TEST 15: the zone, the secret and the protocol are inherited from server level: a signed event links the device
--- config
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    wa_pair_zone_use pairing;
    wa_pair_events_zone pairing;
    wa_pair_events_protocol origin;
    wa_pair_events_secret_file $TEST_NGINX_EVENTS_SECRET_FILE;
    location = /pair {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code;
    }
    location = /events {
        wa_pair_events;
    }
    location = /status {
        wa_pair_status;
    }
--- request eval
["POST /pair\n{\"phone\":\"6281234567890\"}",
 WaPairEventsTest::post('/events', WaPairEventsTest::origin('connection.pair_success', 'dev-42', 1764900000)),
 "GET /status", "POST /pair\n{\"phone\":\"6281234567890\"}"]
--- more_headers eval
[WaPairTest::auth_header() . "\nContent-Type: application/json",
 WaPairEventsTest::signed('origin', WaPairEventsTest::origin('connection.pair_success', 'dev-42', 1764900000)),
 WaPairTest::auth_header(), WaPairTest::auth_header() . "\nContent-Type: application/json"]
--- error_code eval
[200, 204, 200, 409]
--- response_body_like eval
['"pair_code":"', '^$', '"data":\{"state":"linked"\}\}$', '"error":"Device is already logged in"']
