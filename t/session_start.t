use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# wa_pair_session_start on | off: for the engines whose session must be started before they
# pair (WAHA, wuzapi, Evolution, GoWA), the module starts it once when the engine says it is
# not started, waits for the engine's own ready signal within wa_pair_backend_timeout, then
# asks for the code (docs/engines.md, "Starting a session"). A code made on a connection the
# module saw begin (a session it just started, origin's connection inside its call) is
# answered for no longer than what is left of that connection.
#
# tools/fake_engines.py keeps each session's state as the engine does (X-Fake-Answer
# not_started, never_ready, closed) until /_reset; /fake-session/<engine> shows every call it
# received, in order, with a run of the same call (readiness polls) listed once, and how many
# start calls reached it.

start_fakes(origin => '', gowa => 'admin:s3cret', waha => 'waha-key-1', wuzapi => 'wuz-token-1',
            evolution => 'evo-key-1');

our $Helpers = <<'_EOC_';
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /fake-session/gowa      { proxy_pass http://unix:$TEST_NGINX_FAKE_GOWA_SOCK:/_session; }
    location = /fake-session/waha      { proxy_pass http://unix:$TEST_NGINX_FAKE_WAHA_SOCK:/_session; }
    location = /fake-session/wuzapi    { proxy_pass http://unix:$TEST_NGINX_FAKE_WUZAPI_SOCK:/_session; }
    location = /fake-session/evolution { proxy_pass http://unix:$TEST_NGINX_FAKE_EVOLUTION_SOCK:/_session; }
    location = /result { alias $TEST_NGINX_WA_DIR/result.txt; }
_EOC_

sub main::ok_envelope {
    my ($code, $timeout) = @_;
    return qq({"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"$code","timeout":$timeout}});
}
our $NotReady = '{"status":false,"code":503,"message":"Service unavailable","error":"Pairing backend is unavailable"}';
our $TimedOut = '{"status":false,"code":504,"message":"Gateway timeout","error":"Pairing backend did not answer in time"}';
sub main::pair { "POST $_[0]\n{\"phone\":\"6281234567890\"}" }
sub main::session {
    my ($starts, @calls) = @_;
    return '{"calls":[' . join(',', map { qq("$_") } @calls) . qq(],"starts":$starts});
}

# `count` pairings on `path` sent at the same time, each on its own connection: the statuses
# in /result, and the start calls the fake WAHA received.
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
    my ($starts) = WaPairTest::backend_call('GET', '/_session', $ENV{TEST_NGINX_FAKE_WAHA_SOCK})
                   =~ /"starts":(\d+)/;
    WaPairTest::write_file("$WaPairTest::Dir/result.txt",
                           join('', map { "$_ x$status{$_}\n" } sort keys %status) . "starts $starts\n");
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $block->config . $Helpers);
    my $reset = join '', map { "WaPairTest::backend_call('POST', '/_reset', \$ENV{TEST_NGINX_FAKE_${_}_SOCK});\n" }
                             qw(ORIGIN GOWA WAHA WUZAPI EVOLUTION);
    $block->set_value(init => $reset . ($block->init // ''));
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'))
        unless defined $block->must_die;
    # nothing alarming may reach the error log, whatever the block proves
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()))
        unless defined $block->must_die;
});

workers(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: waha: a session that is not running is started once, its readiness awaited, then the code asked for
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK;
        wa_pair_backend_header X-Api-Key waha-key-1;
        wa_pair_backend_header X-Fake-Answer not_started;
        wa_pair_session_start on;
    }
--- request eval
[main::pair("/devices/me/login-code"), "GET /fake-session/waha"]
--- response_body eval
[main::ok_envelope("WAHA-2345", 120),
 main::session(1, "POST /api/default/auth/request-code", "POST /api/sessions/default/start",
               "GET /api/sessions/default", "POST /api/default/auth/request-code")]
--- no_error_log
waha-key-1
[error]
[warn]



=== TEST 1c: waha: the start's exchange is one backend call in the metrics, with its result
The first pairing call, the start, the readiness poll and the code are four calls to the
engine but one exchange for the client: wa_pair_backend_calls_total counts it once, ok.
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK;
        wa_pair_backend_header X-Api-Key waha-key-1;
        wa_pair_backend_header X-Fake-Answer not_started;
        wa_pair_session_start on;
    }
    location = /metrics { wa_pair_metrics; }
--- request eval
[main::pair("/devices/me/login-code"), "GET /metrics"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/WAHA-2345/,
 qr/\nwa_pair_backend_calls_total\{location="\/devices\/me\/login-code",protocol="waha",result="ok"\} 1\n(?![^#]*result="internal_error"\} [1-9])/s]



=== TEST 1b: waha: the start is logged at info, the phone masked
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK;
        wa_pair_backend_header X-Api-Key waha-key-1;
        wa_pair_backend_header X-Fake-Answer not_started;
        wa_pair_session_start on;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 200
--- error_log eval
qr/\[info\].*waha pairing backend "unix:[^"]+:\/api\/default\/auth\/request-code" said the session is not started: starting it \(phone 62812\*\*\*\*890\)/
--- no_error_log
6281234567890



=== TEST 2: waha: a session started moments ago is not started again: the next request pairs at once
The second code's connection is not one the module saw start: WAHA's usual 80 s at most.
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK;
        wa_pair_backend_header X-Api-Key waha-key-1;
        wa_pair_backend_header X-Fake-Answer not_started;
        wa_pair_session_start on;
    }
--- request eval
[main::pair("/devices/me/login-code"), main::pair("/devices/me/login-code"), "GET /fake-session/waha"]
--- response_body eval
[main::ok_envelope("WAHA-2345", 120), main::ok_envelope("WAHA-2345", 80),
 main::session(1, "POST /api/default/auth/request-code", "POST /api/sessions/default/start",
               "GET /api/sessions/default", "POST /api/default/auth/request-code")]



=== TEST 3: waha: two requests at the same time: one start only; the other is told to retry, not started twice
No zone: both reach the engine, which says "not started" to both.
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK;
        wa_pair_backend_header X-Api-Key waha-key-1;
        wa_pair_backend_header X-Fake-Answer not_started;
        wa_pair_session_start on;
    }
--- init
main::concurrent_run('/devices/me/login-code', 2);
--- request
GET /result
--- response_body
200 x1
503 x1
starts 1
--- error_log eval
qr/\[warn\].*waha pairing backend .* answered that the session is not started, and a start for this device was made less than wa_pair_backend_timeout ago/



=== TEST 4: waha: without wa_pair_session_start a session that is not running is a 503 as before, never started
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK;
        wa_pair_backend_header X-Api-Key waha-key-1;
        wa_pair_backend_header X-Fake-Answer not_started;
    }
--- request eval
[main::pair("/devices/me/login-code"), "GET /fake-session/waha"]
--- error_code eval
[503, 200]
--- response_headers eval
["!Retry-After", ""]
--- response_body eval
[$main::NotReady, main::session(0, "POST /api/default/auth/request-code")]



=== TEST 5: waha: a session that never gets ready is a 504 within wa_pair_backend_timeout, saying so
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK;
        wa_pair_backend_header X-Api-Key waha-key-1;
        wa_pair_backend_header X-Fake-Answer never_ready;
        wa_pair_session_start on;
        wa_pair_backend_timeout 2s;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 504
--- response_body eval
$main::TimedOut
--- error_log eval
qr/\[error\].*waha pairing backend .* did not make the session ready within wa_pair_backend_timeout of the request \(started by this request\) \(phone 62812\*\*\*\*890\)/



=== TEST 6: wuzapi: no client: /session/connect once, its QR awaited, then the code
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol wuzapi;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WUZAPI_SOCK;
        wa_pair_backend_header token wuz-token-1;
        wa_pair_backend_header X-Fake-Answer not_started;
        wa_pair_session_start on;
    }
--- request eval
[main::pair("/devices/me/login-code"), "GET /fake-session/wuzapi"]
--- response_body eval
[main::ok_envelope("WZP1-2345", 120),
 main::session(1, "POST /session/pairphone", "POST /session/connect", "GET /session/qr",
               "POST /session/pairphone")]
--- no_error_log
wuz-token-1
[error]
[warn]



=== TEST 7: wuzapi: without wa_pair_session_start, "No session" stays a 503 for its operator
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol wuzapi;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WUZAPI_SOCK;
        wa_pair_backend_header token wuz-token-1;
        wa_pair_backend_header X-Fake-Answer not_started;
    }
--- request eval
[main::pair("/devices/me/login-code"), "GET /fake-session/wuzapi"]
--- error_code eval
[503, 200]
--- response_body eval
[$main::NotReady, main::session(0, "POST /session/pairphone")]



=== TEST 8: gowa: an unknown device is created once (POST /devices), then its login-with-code pairs
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol gowa;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_GOWA_SOCK;
        wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0";
        wa_pair_backend_header X-Fake-Answer not_started;
        wa_pair_session_start on;
    }
--- request eval
[main::pair("/devices/me/login-code"), "GET /fake-session/gowa"]
--- response_body eval
[main::ok_envelope("GWA2-CDE3", 120),
 main::session(1, "GET /app/login-with-code?phone=6281234567890", "POST /devices",
               "GET /app/login-with-code?phone=6281234567890")]
--- no_error_log
YWRtaW46
[error]
[warn]



=== TEST 9: gowa: without wa_pair_session_start an unknown device is not created
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol gowa;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_GOWA_SOCK;
        wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0";
        wa_pair_backend_header X-Fake-Answer not_started;
    }
--- request eval
[main::pair("/devices/me/login-code"), "GET /fake-session/gowa"]
--- error_code eval
[503, 200]
--- response_body eval
[$main::NotReady, main::session(0, "GET /app/login-with-code?phone=6281234567890")]



=== TEST 10: evolution: a closed instance: its close-state answer (the previous attempt's code) is never the answer; the new connection's code is
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol evolution;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_EVOLUTION_SOCK;
        wa_pair_backend_header apikey evo-key-1;
        wa_pair_backend_header X-Fake-Answer closed;
        wa_pair_session_start on;
    }
--- request eval
[main::pair("/devices/me/login-code"), "GET /fake-session/evolution"]
--- response_body eval
[main::ok_envelope("EV12-34XY", 15),
 main::session(1, "GET /instance/connect/default?number=6281234567890",
               "GET /instance/connectionState/default",
               "GET /instance/connect/default?number=6281234567890")]
--- no_error_log
PREV2345
PREV-2345
evo-key-1
[error]
[warn]



=== TEST 11: evolution: a closed instance whose new connection never shows a QR: 504 within wa_pair_backend_timeout, the stale code never answered
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol evolution;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_EVOLUTION_SOCK;
        wa_pair_backend_header apikey evo-key-1;
        wa_pair_backend_header X-Fake-Answer never_ready;
        wa_pair_session_start on;
        wa_pair_backend_timeout 3s;
    }
--- request eval
[main::pair("/devices/me/login-code"), "GET /fake-session/evolution"]
--- timeout: 10
--- error_code eval
[504, 200]
--- response_body_like eval
["\\A\Q$main::TimedOut\E\\z", '"starts":1\}\z']
--- no_error_log
PREV2345
PREV-2345



=== TEST 12: nginx -t: wa_pair_session_start on has nothing to start with the native protocol
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://127.0.0.1:9/v1/pair-code;
        wa_pair_session_start on;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_session_start on" has nothing to start with "wa_pair_backend_protocol native": the native protocol has no session/



=== TEST 13: nginx -t: wa_pair_session_start on needs a WAHA pairing path it can make the session's start from
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://127.0.0.1:9/api/default/auth/qr;
        wa_pair_session_start on;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"wa_pair_session_start on" cannot find the waha session's start in "wa_pair_backend http:\/\/127\.0\.0\.1:9\/api\/default\/auth\/qr": its path must end with \/api\/\{session\}\/auth\/request-code/



=== TEST 14: with a zone, two requests at the same time: one exchange, one start, and both get its code
--- http_config
    wa_pair_zone pairing:1m;
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_zone_use pairing;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK;
        wa_pair_backend_header X-Api-Key waha-key-1;
        wa_pair_backend_header X-Fake-Answer not_started;
        wa_pair_session_start on;
    }
--- init
main::concurrent_run('/devices/me/login-code', 2);
--- request
GET /result
--- response_body
200 x2
starts 1



=== TEST 15: a client that hangs up while its session gets ready ends the exchange and leaves nothing behind; the next pairing works
--- config
    location = /waiting {
        wa_pair;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK;
        wa_pair_backend_header X-Api-Key waha-key-1;
        wa_pair_backend_header X-Fake-Answer never_ready;
        wa_pair_session_start on;
        wa_pair_backend_timeout 10s;
    }
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol gowa;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_GOWA_SOCK;
        wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0";
    }
--- request eval
[main::pair("/waiting"), main::pair("/devices/me/login-code")]
--- abort
--- timeout: 1.5
--- wait: 0.5
--- error_code eval
["", 200]
--- response_body eval
["", main::ok_envelope("GWA2-CDE3", 80)]
--- no_error_log
[error]



=== TEST 16: through an upstream{} block with keepalive: every call of the exchange on the pool's connections, then a second request pairs at once
--- http_config
    upstream waha {
        server unix:$TEST_NGINX_FAKE_WAHA_SOCK;
        keepalive 2;
    }
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://waha/api/default/auth/request-code;
        wa_pair_backend_header X-Api-Key waha-key-1;
        wa_pair_backend_header X-Fake-Answer not_started;
        wa_pair_session_start on;
    }
--- request eval
[main::pair("/devices/me/login-code"), main::pair("/devices/me/login-code"), "GET /fake-session/waha"]
--- response_body eval
[main::ok_envelope("WAHA-2345", 120), main::ok_envelope("WAHA-2345", 80),
 main::session(1, "POST /api/default/auth/request-code", "POST /api/sessions/default/start",
               "GET /api/sessions/default", "POST /api/default/auth/request-code")]
--- no_error_log
[error]
[warn]



=== TEST 17: origin opens its connection inside the pairing call: a code that took 11 s to make is answered for less than origin's usual 150 s
whatsmeow's login connection ends 160 s after it began, whatever origin's answer says.
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol origin;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_ORIGIN_SOCK;
        wa_pair_backend_header X-Fake-Answer slow;
    }
--- request eval
main::pair("/devices/me/login-code")
--- timeout: 20
--- response_body_like: ^\{"status":true,"code":200,"message":"Pairing code generated successfully","data":\{"pair_code":"RGN1-2345","timeout":14[0-8]\}\}$
