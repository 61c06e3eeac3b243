use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# wa_pair_backend_protocol origin | gowa | waha | wuzapi | evolution: for each engine, the
# request nginx sends (method, path, query, headers, body, as the engine received them) and
# every documented answer, error shapes included, mapped to the envelope (docs/engines.md).
#
# tools/fake_engines.py plays each engine on its own Unix socket, checks requests as the
# engine's code does (credentials, device, session, instance, body), and answers the shape
# the X-Fake-Answer header names (set with wa_pair_backend_header). /fake-last/<engine>
# shows the last request the fake received ("null" when none since the block started);
# /fake-stats/<engine> how many pairing requests it received ({"requests":N}).
#
# Credentials the fakes require: GoWA Basic admin:s3cret, WAHA X-Api-Key waha-key-1,
# wuzapi token wuz-token-1, Evolution apikey evo-key-1; origin: a Bearer JWT. Devices,
# sessions and instances that exist: "default" and "dev-42" (the tokens' device).

start_fakes(origin => '', gowa => 'admin:s3cret', waha => 'waha-key-1',
            wuzapi => 'wuz-token-1', evolution => 'evo-key-1');

our $Token = WaPairTest::token();

our $Helpers = <<'_EOC_';
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /fake-last/origin    { proxy_pass http://unix:$TEST_NGINX_FAKE_ORIGIN_SOCK:/_last; }
    location = /fake-last/gowa      { proxy_pass http://unix:$TEST_NGINX_FAKE_GOWA_SOCK:/_last; }
    location = /fake-last/waha      { proxy_pass http://unix:$TEST_NGINX_FAKE_WAHA_SOCK:/_last; }
    location = /fake-last/wuzapi    { proxy_pass http://unix:$TEST_NGINX_FAKE_WUZAPI_SOCK:/_last; }
    location = /fake-last/evolution { proxy_pass http://unix:$TEST_NGINX_FAKE_EVOLUTION_SOCK:/_last; }
    location = /fake-stats/origin   { proxy_pass http://unix:$TEST_NGINX_FAKE_ORIGIN_SOCK:/_stats; }
    location = /fake-stats/gowa     { proxy_pass http://unix:$TEST_NGINX_FAKE_GOWA_SOCK:/_stats; }
    location = /fake-stats/wuzapi   { proxy_pass http://unix:$TEST_NGINX_FAKE_WUZAPI_SOCK:/_stats; }
    location = /fake-stats/evolution { proxy_pass http://unix:$TEST_NGINX_FAKE_EVOLUTION_SOCK:/_stats; }
_EOC_

sub main::ok_envelope {
    my ($code, $timeout) = @_;
    return qq({"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"$code","timeout":$timeout}});
}
our $Conflict   = '{"status":false,"code":409,"message":"Conflict","error":"Device is already logged in"}';
our $Rejected   = '{"status":false,"code":400,"message":"Bad request","error":"Pairing request was rejected by the backend"}';
our $BadToken   = '{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"}';
our $TooMany    = '{"status":false,"code":429,"message":"Too many requests","error":"Too many pairing requests"}';
our $Failed     = '{"status":false,"code":500,"message":"Internal server error","error":"Failed to generate pairing code"}';
our $BadAnswer  = '{"status":false,"code":502,"message":"Bad gateway","error":"Invalid answer from the pairing backend"}';
our $NotReady   = '{"status":false,"code":503,"message":"Service unavailable","error":"Pairing backend is unavailable"}';
our $TimedOut   = '{"status":false,"code":504,"message":"Gateway timeout","error":"Pairing backend did not answer in time"}';
sub main::calls { qq({"requests": $_[0]}) }
sub main::pair { "POST $_[0]\n{\"phone\":\"6281234567890\"}" }

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $block->config . $Helpers);
    $block->set_value(init => join '', map { "WaPairTest::backend_call('POST', '/_reset', \$ENV{TEST_NGINX_FAKE_${_}_SOCK});\n" }
                                         qw(ORIGIN GOWA WAHA WUZAPI EVOLUTION))
        unless defined $block->init;
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'));
    # nothing alarming may reach the error log, whatever the block proves
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: origin: POST /devices/me/login-code with the client's token as a Bearer token (sent bare by the doc's curl)
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol origin;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_ORIGIN_SOCK;
    }
--- more_headers eval
"Authorization: $main::Token\nX-Request-ID: t-origin\n"
--- request eval
[main::pair("/devices/me/login-code"), "GET /fake-last/origin"]
--- response_body eval
[main::ok_envelope("RGN1-2345", 150),
 qq({"body":"{\\"phone\\":\\"6281234567890\\"}","headers":{"accept":"application/json","authorization":"Bearer $main::Token","content-length":"25","content-type":"application/json","host":"localhost","x-request-id":"t-origin"},"method":"POST","target":"/devices/me/login-code"})]



=== TEST 2: origin: every documented answer of its code, its raw 500 texts never shown
--- config
    wa_pair_backend_protocol origin;
    wa_pair_backend http://unix:$TEST_NGINX_FAKE_ORIGIN_SOCK:/devices/me/login-code;
    location = /success        { wa_pair; }
    location = /reconnected    { wa_pair; wa_pair_backend_header X-Fake-Answer reconnected; }
    location = /phone-required { wa_pair; wa_pair_backend_header X-Fake-Answer phone_required; }
    location = /revoked        { wa_pair; wa_pair_backend_header X-Fake-Answer revoked; }
    location = /too-many       { wa_pair; wa_pair_backend_header X-Fake-Answer too_many; }
    location = /raw-500        { wa_pair; wa_pair_backend_header X-Fake-Answer raw_500; }
    location = /panic          { wa_pair; wa_pair_backend_header X-Fake-Answer panic; }
    location = /rate-overlimit { wa_pair; wa_pair_backend_header X-Fake-Answer rate_overlimit; }
    location = /iq-timeout     { wa_pair; wa_pair_backend_header X-Fake-Answer iq_timeout; }
--- request eval
[map { main::pair("/$_") } qw(success reconnected phone-required revoked too-many raw-500 panic
                               rate-overlimit iq-timeout)]
--- error_code eval
[200, 409, 400, 401, 429, 500, 500, 429, 504]
--- response_headers eval
["!Retry-After", "!Retry-After", "!WWW-Authenticate", 'WWW-Authenticate: Bearer error="invalid_token"',
 "Retry-After: 30", "!Retry-After", "!Retry-After", "Retry-After: 3600", "!Retry-After"]
--- response_body eval
[main::ok_envelope("RGN1-2345", 150), $main::Conflict,
 '{"status":false,"code":400,"message":"Bad request","error":"Phone is required"}',
 $main::BadToken, $main::TooMany, $main::Failed, $main::Failed, $main::TooMany, $main::TimedOut]
--- no_error_log
status 429: rate-overlimit
info query timed out



=== TEST 3: gowa: GET /app/login-with-code?phone= with X-Device-Id and the operator's Basic auth
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol gowa;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_GOWA_SOCK;
        wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0";
    }
--- more_headers
X-Request-ID: t-gowa
--- request eval
[main::pair("/devices/me/login-code"), "GET /fake-last/gowa"]
--- response_body eval
[main::ok_envelope("GWA2-CDE3", 80),
 '{"body":"","headers":{"accept":"application/json","authorization":"Basic YWRtaW46czNjcmV0","host":"localhost","x-device-id":"dev-42","x-request-id":"t-gowa"},"method":"GET","target":"/app/login-with-code?phone=6281234567890"}']



=== TEST 4: gowa: every documented answer; VALIDATION_ERROR's message (it repeats the phone) is never shown
--- config
    wa_pair_backend_protocol gowa;
    wa_pair_backend http://unix:$TEST_NGINX_FAKE_GOWA_SOCK:/app/login-with-code;
    wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0";
    location = /success       { wa_pair; }
    location = /already       { wa_pair; wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0"; wa_pair_backend_header X-Fake-Answer already_logged_in; }
    location = /validation    { wa_pair; wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0"; wa_pair_backend_header X-Fake-Answer validation_error; }
    location = /timeout       { wa_pair; wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0"; wa_pair_backend_header X-Fake-Answer gateway_timeout; }
    location = /connect-failed { wa_pair; wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0"; wa_pair_backend_header X-Fake-Answer connect_failed; }
    location = /internal      { wa_pair; wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0"; wa_pair_backend_header X-Fake-Answer internal_error; }
    location = /no-device     { wa_pair; wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0"; wa_pair_backend_header X-Device-Id ghost; }
    location = /bad-password  { wa_pair; wa_pair_backend_header Authorization "Basic YWRtaW46d3Jvbmc="; }
    location = /rate-overlimit { wa_pair; wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0"; wa_pair_backend_header X-Fake-Answer rate_overlimit; }
    location = /starting      { wa_pair; wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0"; wa_pair_backend_header X-Fake-Answer manager_unavailable; }
--- request eval
[map { main::pair("/$_") } qw(success already validation timeout connect-failed internal no-device
                               bad-password rate-overlimit starting)]
--- error_code eval
[200, 409, 400, 504, 500, 500, 503, 502, 429, 503]
--- response_headers eval
[("!Retry-After") x 7, "!Retry-After", "Retry-After: 3600", "Retry-After: 5"]
--- response_body eval
[main::ok_envelope("GWA2-CDE3", 80), $main::Conflict, $main::Rejected, $main::TimedOut,
 $main::Failed, $main::Failed, $main::NotReady, $main::BadAnswer, $main::TooMany, $main::NotReady]
--- no_error_log
YWRtaW46
status 429: rate-overlimit
i/o timeout



=== TEST 5: waha: POST /api/{session}/auth/request-code, the session from $wa_pair_device_id, X-Api-Key from a variable
--- config
    location = /devices/me/login-code {
        set $waha_key waha-key-1;
        wa_pair;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK:/api/$wa_pair_device_id/auth/request-code;
        wa_pair_backend_header X-Api-Key $waha_key;
    }
--- more_headers
X-Request-ID: t-waha
--- request eval
[main::pair("/devices/me/login-code"), "GET /fake-last/waha"]
--- response_body eval
[main::ok_envelope("WAHA-2345", 80),
 '{"body":"{\"phoneNumber\":\"6281234567890\"}","headers":{"accept":"application/json","content-length":"31","content-type":"application/json","host":"localhost","x-api-key":"waha-key-1","x-request-id":"t-waha"},"method":"POST","target":"/api/dev-42/auth/request-code"}']



=== TEST 6: waha: every documented answer; a 422 but WORKING says when to retry, WORKING is already paired
--- config
    wa_pair_backend_protocol waha;
    wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK;
    location = /created         { wa_pair; wa_pair_backend_header X-Api-Key waha-key-1; }
    location = /ok              { wa_pair; wa_pair_backend_header X-Api-Key waha-key-1; wa_pair_backend_header X-Fake-Answer success_200; }
    location = /starting        { wa_pair; wa_pair_backend_header X-Api-Key waha-key-1; wa_pair_backend_header X-Fake-Answer starting; }
    location = /stopped         { wa_pair; wa_pair_backend_header X-Api-Key waha-key-1; wa_pair_backend_header X-Fake-Answer stopped; }
    location = /failed          { wa_pair; wa_pair_backend_header X-Api-Key waha-key-1; wa_pair_backend_header X-Fake-Answer failed; }
    location = /working         { wa_pair; wa_pair_backend_header X-Api-Key waha-key-1; wa_pair_backend_header X-Fake-Answer working; }
    location = /not-implemented { wa_pair; wa_pair_backend_header X-Api-Key waha-key-1; wa_pair_backend_header X-Fake-Answer not_implemented; }
    location = /exception       { wa_pair; wa_pair_backend_header X-Api-Key waha-key-1; wa_pair_backend_header X-Fake-Answer exception; }
    location = /no-session      { wa_pair; wa_pair_backend_header X-Api-Key waha-key-1; wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK:/api/stopped/auth/request-code; }
    location = /no-route        { wa_pair; wa_pair_backend_header X-Api-Key waha-key-1; wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK:/waha/api/default/auth/request-code; }
    location = /wrong-key       { wa_pair; wa_pair_backend_header X-Api-Key nope; }
--- request eval
[map { main::pair("/$_") } qw(created ok starting stopped failed working not-implemented exception
                               no-session no-route wrong-key)]
--- error_code eval
[200, 200, 503, 503, 503, 409, 502, 500, 503, 502, 502]
--- response_headers eval
["!Retry-After", "!Retry-After", "Retry-After: 5", ("!Retry-After") x 8]
--- response_body eval
[main::ok_envelope("WAHA-2345", 80), main::ok_envelope("WAHA-2345", 80), $main::NotReady,
 $main::NotReady, $main::NotReady, $main::Conflict, $main::BadAnswer, $main::Failed,
 $main::NotReady, $main::BadAnswer, $main::BadAnswer]
--- no_error_log
waha-key-1



=== TEST 7: $wa_pair_device_id is percent-encoded: a device id cannot walk the engine's paths
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK:/api/$wa_pair_device_id/auth/request-code;
        wa_pair_backend_header X-Api-Key waha-key-1;
    }
--- more_headers eval
["Authorization: Bearer " . WaPairTest::token(device_id => '../../sessions/x?y#z'), ""]
--- request eval
[main::pair("/devices/me/login-code"), "GET /fake-last/waha"]
--- error_code eval
[503, 200]
--- response_body_like eval
[quotemeta($main::NotReady), '"target":"/api/%2E%2E%2F%2E%2E%2Fsessions%2Fx%3Fy%23z/auth/request-code"\}$']



=== TEST 8: wuzapi: POST /session/pairphone with {"Phone":..} and the user's token header
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol wuzapi;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WUZAPI_SOCK;
        wa_pair_backend_header token wuz-token-1;
    }
--- more_headers
X-Request-ID: t-wuzapi
--- request eval
[main::pair("/devices/me/login-code"), "GET /fake-last/wuzapi"]
--- response_body eval
[main::ok_envelope("WZP1-2345", 80),
 '{"body":"{\"Phone\":\"6281234567890\"}","headers":{"accept":"application/json","content-length":"25","content-type":"application/json","host":"localhost","token":"wuz-token-1","x-request-id":"t-wuzapi"},"method":"POST","target":"/session/pairphone"}']



=== TEST 9: wuzapi: every documented answer; whatsmeow's own error text is never shown
--- config
    wa_pair_backend_protocol wuzapi;
    wa_pair_backend http://unix:$TEST_NGINX_FAKE_WUZAPI_SOCK:/session/pairphone;
    location = /success    { wa_pair; wa_pair_backend_header token wuz-token-1; }
    location = /paired     { wa_pair; wa_pair_backend_header token wuz-token-1; wa_pair_backend_header X-Fake-Answer already_paired; }
    location = /no-session { wa_pair; wa_pair_backend_header token wuz-token-1; wa_pair_backend_header X-Fake-Answer no_session; }
    location = /pair-error { wa_pair; wa_pair_backend_header token wuz-token-1; wa_pair_backend_header X-Fake-Answer pair_error; }
    location = /bad-token  { wa_pair; wa_pair_backend_header token wrong; }
    location = /rate-overlimit { wa_pair; wa_pair_backend_header token wuz-token-1; wa_pair_backend_header X-Fake-Answer rate_overlimit; }
    location = /not-connected  { wa_pair; wa_pair_backend_header token wuz-token-1; wa_pair_backend_header X-Fake-Answer not_connected; }
    location = /iq-timeout     { wa_pair; wa_pair_backend_header token wuz-token-1; wa_pair_backend_header X-Fake-Answer iq_timeout; }
--- request eval
[map { main::pair("/$_") } qw(success paired no-session pair-error bad-token rate-overlimit
                               not-connected iq-timeout)]
--- error_code eval
[200, 409, 503, 400, 502, 429, 503, 504]
--- response_headers eval
[("!Retry-After") x 5, "Retry-After: 3600", ("!Retry-After") x 2]
--- response_body eval
[main::ok_envelope("WZP1-2345", 80), $main::Conflict, $main::NotReady, $main::Rejected, $main::BadAnswer,
 $main::TooMany, $main::NotReady, $main::TimedOut]
--- no_error_log
wuz-token-1
status 429: rate-overlimit
websocket not connected



=== TEST 10: evolution: GET /instance/connect/{instance}?number= with apikey; the instance from $wa_pair_device_id, the URL's own query kept
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol evolution;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_EVOLUTION_SOCK:/instance/connect/$wa_pair_device_id?source=edge;
        wa_pair_backend_header apikey evo-key-1;
    }
--- more_headers
X-Request-ID: t-evolution
--- request eval
[main::pair("/devices/me/login-code"), "GET /fake-last/evolution"]
--- response_body eval
[main::ok_envelope("EV12-34XY", 15),
 '{"body":"","headers":{"accept":"application/json","apikey":"evo-key-1","host":"localhost","x-request-id":"t-evolution"},"method":"GET","target":"/instance/connect/dev-42?source=edge&number=6281234567890"}']



=== TEST 11: evolution: every documented answer, all 200s but the guards'
--- config
    wa_pair_backend_protocol evolution;
    wa_pair_backend http://unix:$TEST_NGINX_FAKE_EVOLUTION_SOCK;
    location = /success     { wa_pair; wa_pair_backend_header apikey evo-key-1; }
    location = /null-code   { wa_pair; wa_pair_backend_header apikey evo-key-1; wa_pair_backend_header X-Fake-Answer null_code; }
    location = /open        { wa_pair; wa_pair_backend_header apikey evo-key-1; wa_pair_backend_header X-Fake-Answer open; }
    location = /error       { wa_pair; wa_pair_backend_header apikey evo-key-1; wa_pair_backend_header X-Fake-Answer error; }
    location = /no-instance { wa_pair; wa_pair_backend_header apikey evo-key-1; wa_pair_backend http://unix:$TEST_NGINX_FAKE_EVOLUTION_SOCK:/instance/connect/ghost; }
    location = /wrong-key   { wa_pair; wa_pair_backend_header apikey nope; }
    location = /waiting     { wa_pair; wa_pair_backend_header apikey evo-key-1; wa_pair_backend_header X-Fake-Answer waiting; }
    location = /close-stale { wa_pair; wa_pair_backend_header apikey evo-key-1; wa_pair_backend_header X-Fake-Answer close_stale; }
    location = /no-route    { wa_pair; wa_pair_backend_header apikey evo-key-1; wa_pair_backend http://unix:$TEST_NGINX_FAKE_EVOLUTION_SOCK:/evolution/connect/default; }
--- request eval
[map { main::pair("/$_") } qw(success null-code open error no-instance wrong-key waiting close-stale
                               no-route)]
--- error_code eval
[200, 503, 409, 502, 503, 502, 503, 503, 502]
--- response_headers eval
["!Retry-After", "Retry-After: 5", ("!Retry-After") x 4, "Retry-After: 5", "Retry-After: 5", "!Retry-After"]
--- response_body eval
[main::ok_envelope("EV12-34XY", 15), $main::NotReady, $main::Conflict, $main::BadAnswer,
 $main::NotReady, $main::BadAnswer, $main::NotReady, $main::NotReady, $main::BadAnswer]
--- no_error_log
evo-key-1



=== TEST 12: only origin is sent the client's Authorization; an operator header replaces the adapter's of the same name
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol gowa;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_GOWA_SOCK;
        wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0";
        wa_pair_backend_header x-device-id default;
        wa_pair_backend_header Accept "";
    }
--- more_headers
X-Request-ID: t-override
--- request eval
[main::pair("/devices/me/login-code"), "GET /fake-last/gowa"]
--- response_body eval
[main::ok_envelope("GWA2-CDE3", 80),
 '{"body":"","headers":{"accept":"*/*","authorization":"Basic YWRtaW46czNjcmV0","host":"localhost","x-device-id":"default","x-request-id":"t-override"},"method":"GET","target":"/app/login-with-code?phone=6281234567890"}']



=== TEST 13: a failure of the backend is logged naming the protocol, the backend and the failure, the phone masked
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol origin;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_ORIGIN_SOCK;
        wa_pair_backend_header X-Fake-Answer raw_500;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 500
--- error_log eval
qr/\[error\].*wa_pair: origin pairing backend "unix:[^"]+:\/devices\/me\/login-code" answered 500: answered a 5xx \(phone 62812\*\*\*\*890\)/
--- no_error_log
WhatsApp Client is not Valid



=== TEST 14: an answer about the request (already paired) is logged at info level only
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol origin;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_ORIGIN_SOCK;
        wa_pair_backend_header X-Fake-Answer reconnected;
    }
--- log_level: info
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 409
--- error_log eval
qr/\[info\].*wa_pair: origin pairing backend .* answered 200: answered "WhatsApp Client is Reconnected": already paired \(phone 62812\*\*\*\*890\)/
--- no_error_log
[error]



=== TEST 15: gowa: credentials the engine refuses are the operator's problem: a 502, logged without the credentials
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol gowa;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_GOWA_SOCK;
        wa_pair_backend_header Authorization "Basic YWRtaW46d3Jvbmc=";
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 502
--- error_log eval
qr/\[error\].*gowa pairing backend "unix:[^"]+:\/app\/login-with-code" answered 401: refused the configured credentials \(Basic auth\) \(phone 62812\*\*\*\*890\)/
--- no_error_log
YWRtaW46



=== TEST 16: waha: a session still starting is logged with the engine's status (503 + Retry-After: an error, as any 5xx)
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK;
        wa_pair_backend_header X-Api-Key waha-key-1;
        wa_pair_backend_header X-Fake-Answer starting;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 503
--- error_log eval
qr/\[error\].*waha pairing backend "unix:[^"]+:\/api\/default\/auth\/request-code" answered 422: 422: the session is STARTING \(phone 62812\*\*\*\*890\)/
--- no_error_log
waha-key-1



=== TEST 17: wuzapi: "No session" (a session to start) is a warning naming what to do, without Retry-After
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol wuzapi;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WUZAPI_SOCK;
        wa_pair_backend_header token wuz-token-1;
        wa_pair_backend_header X-Fake-Answer no_session;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 503
--- response_headers
!Retry-After
--- error_log eval
qr/\[warn\].*wuzapi pairing backend "unix:[^"]+:\/session\/pairphone" answered 500: "No session": the user's session is not started \(POST \/session\/connect\) \(phone 62812\*\*\*\*890\)/
--- no_error_log
wuz-token-1
[error]



=== TEST 18: evolution: a 200 carrying {"error":true} is logged as a bad answer, without the engine's text
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol evolution;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_EVOLUTION_SOCK;
        wa_pair_backend_header apikey evo-key-1;
        wa_pair_backend_header X-Fake-Answer error;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 502
--- error_log eval
qr/\[error\].*evolution pairing backend "unix:[^"]+:\/instance\/connect\/default" answered 200: answered 200 with \{"error":true\} \(phone 62812\*\*\*\*890\)/
--- no_error_log
Connection Closed




=== TEST 19: waha: a FAILED session needs its operator: a warning with the engine's state, no Retry-After
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK;
        wa_pair_backend_header X-Api-Key waha-key-1;
        wa_pair_backend_header X-Fake-Answer failed;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 503
--- response_headers
!Retry-After
--- error_log eval
qr/\[warn\].*waha pairing backend .* answered 422: 422: the session is FAILED \(restart it\) \(phone 62812\*\*\*\*890\)/
--- no_error_log
[error]



=== TEST 20: waha: a STOPPED session needs its operator: a warning with the engine's state, no Retry-After
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK;
        wa_pair_backend_header X-Api-Key waha-key-1;
        wa_pair_backend_header X-Fake-Answer stopped;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 503
--- response_headers
!Retry-After
--- error_log eval
qr/\[warn\].*waha pairing backend .* answered 422: 422: the session is STOPPED \(start it\) \(phone 62812\*\*\*\*890\)/
--- no_error_log
[error]



=== TEST 21: waha: no session running under the name: a warning naming what to do, no Retry-After
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK:/api/ghost/auth/request-code;
        wa_pair_backend_header X-Api-Key waha-key-1;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 503
--- response_headers
!Retry-After
--- error_log eval
qr/\[warn\].*waha pairing backend "unix:[^"]+:\/api\/ghost\/auth\/request-code" answered 404: 404: the session is not running \(start it: POST \/api\/sessions\/\{name\}\/start\)/
--- no_error_log
[error]



=== TEST 22: gowa: a device the engine lacks is a warning naming what to do, no Retry-After
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol gowa;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_GOWA_SOCK;
        wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0";
        wa_pair_backend_header X-Device-Id ghost;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 503
--- response_headers
!Retry-After
--- error_log eval
qr/\[warn\].*gowa pairing backend .* answered 404: DEVICE_NOT_FOUND: the engine has no such device \(create it: POST \/devices\)/
--- no_error_log
[error]



=== TEST 23: evolution: an instance the engine lacks is a warning naming what to do, no Retry-After
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol evolution;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_EVOLUTION_SOCK:/instance/connect/ghost;
        wa_pair_backend_header apikey evo-key-1;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 503
--- response_headers
!Retry-After
--- error_log eval
qr/\[warn\].*evolution pairing backend .* answered 404: 404: no such instance \(create it: POST \/instance\/create\)/
--- no_error_log
[error]



=== TEST 24: wuzapi: a session whose WhatsApp connection is down (whatsmeow's "websocket not connected") is a warning, no Retry-After
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol wuzapi;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WUZAPI_SOCK;
        wa_pair_backend_header token wuz-token-1;
        wa_pair_backend_header X-Fake-Answer not_connected;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 503
--- response_headers
!Retry-After
--- error_log eval
qr/\[warn\].*wuzapi pairing backend .* answered 400: answered that the session's WhatsApp connection is down \(connect it again\)/
--- no_error_log
[error]



=== TEST 25: waha: an engine without pairing codes (422 "not implemented") is the operator's choice of engine: 502, logged as an error
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol waha;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WAHA_SOCK;
        wa_pair_backend_header X-Api-Key waha-key-1;
        wa_pair_backend_header X-Fake-Answer not_implemented;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 502
--- response_body eval
$main::BadAnswer
--- error_log eval
qr/\[error\].*waha pairing backend .* answered 422: 422: the engine does not implement pairing codes \(use NOWEB or WEBJS\) \(phone 62812\*\*\*\*890\)/



=== TEST 26: origin: WhatsApp's rate-overlimit (a 500 with whatsmeow's text) is a 429 and cools the device and the number down: no second call
--- http_config
    wa_pair_zone pairing:1m;
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_zone_use pairing;
        wa_pair_backend_protocol origin;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_ORIGIN_SOCK;
        wa_pair_backend_header X-Fake-Answer rate_overlimit;
    }
--- more_headers eval
["", WaPairTest::auth_header(device_id => 'dev-9'), "", ""]
--- request eval
[main::pair("/devices/me/login-code"), main::pair("/devices/me/login-code"),
 main::pair("/devices/me/login-code"), "GET /fake-stats/origin"]
--- error_code eval
[429, 429, 429, 200]
--- raw_response_headers_like eval
["\r\nRetry-After: 3600\r\n", "\r\nRetry-After: 3[56][0-9]{2}\r\n", "\r\nRetry-After: 3[56][0-9]{2}\r\n", ""]
--- response_body eval
[$main::TooMany, $main::TooMany, $main::TooMany, main::calls(1)]
--- no_error_log
status 429: rate-overlimit



=== TEST 27: gowa: WhatsApp's rate-overlimit (a 500 INTERNAL_SERVER_ERROR) is a 429 and a cool-down: no second call
--- http_config
    wa_pair_zone pairing:1m;
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_zone_use pairing;
        wa_pair_backend_protocol gowa;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_GOWA_SOCK;
        wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0";
        wa_pair_backend_header X-Fake-Answer rate_overlimit;
    }
--- request eval
[main::pair("/devices/me/login-code"), main::pair("/devices/me/login-code"), "GET /fake-stats/gowa"]
--- error_code eval
[429, 429, 200]
--- raw_response_headers_like eval
["\r\nRetry-After: 3600\r\n", "\r\nRetry-After: 3[56][0-9]{2}\r\n", ""]
--- response_body eval
[$main::TooMany, $main::TooMany, main::calls(1)]
--- no_error_log
status 429: rate-overlimit



=== TEST 28: wuzapi: WhatsApp's rate-overlimit (a 400 with whatsmeow's text) is a 429 and a cool-down: no second call
--- http_config
    wa_pair_zone pairing:1m;
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_zone_use pairing;
        wa_pair_backend_protocol wuzapi;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_WUZAPI_SOCK;
        wa_pair_backend_header token wuz-token-1;
        wa_pair_backend_header X-Fake-Answer rate_overlimit;
    }
--- request eval
[main::pair("/devices/me/login-code"), main::pair("/devices/me/login-code"), "GET /fake-stats/wuzapi"]
--- error_code eval
[429, 429, 200]
--- raw_response_headers_like eval
["\r\nRetry-After: 3600\r\n", "\r\nRetry-After: 3[56][0-9]{2}\r\n", ""]
--- response_body eval
[$main::TooMany, $main::TooMany, main::calls(1)]
--- no_error_log
status 429: rate-overlimit



=== TEST 29: evolution: a code is answered for 15 s at most, whatever wa_pair_code_timeout says, and reused no longer
With the default wa_pair_reuse_margin (15 s) an Evolution code is never reused: each request
asks the engine for the code of the moment. With a margin of 5 s it is reused, with what is
left of its 15 s.
--- http_config
    wa_pair_zone pairing:1m;
--- config
    wa_pair_zone_use pairing;
    wa_pair_code_timeout 120;
    wa_pair_backend_protocol evolution;
    wa_pair_backend http://unix:$TEST_NGINX_FAKE_EVOLUTION_SOCK;
    wa_pair_backend_header apikey evo-key-1;
    add_header X-Cache $wa_pair_cache always;
    location = /default-margin { wa_pair; }
    location = /margin-5s      { wa_pair; wa_pair_reuse_margin 5s; }
--- more_headers eval
["", "", "", WaPairTest::auth_header(device_id => 'dev-9'), WaPairTest::auth_header(device_id => 'dev-9'), ""]
--- request eval
[main::pair("/default-margin"), main::pair("/default-margin"), "GET /fake-stats/evolution",
 main::pair("/margin-5s"), main::pair("/margin-5s"), "GET /fake-stats/evolution"]
--- error_code eval
[200, 200, 200, 200, 200, 200]
--- response_headers eval
["X-Cache: miss", "X-Cache: miss", "", "X-Cache: miss", "X-Cache: hit", ""]
--- response_body_like eval
['^' . quotemeta(main::ok_envelope("EV12-34XY", 15)) . '$', '^' . quotemeta(main::ok_envelope("EV12-34XY", 15)) . '$',
 '^' . quotemeta(main::calls(2)) . '$', '^' . quotemeta(main::ok_envelope("EV12-34XY", 15)) . '$',
 '"pair_code":"EV12-34XY","timeout":1[45]\}\}$', '^' . quotemeta(main::calls(3)) . '$']



=== TEST 30: evolution: the close state's answer (2 s after connecting: the previous attempt's QR state, its code possibly for another number) is never a code: 503 + Retry-After, never stored for reuse
Only its duration tells it from a live answer (Evolution's close branch waits 2 s; its others
answer from memory): the module takes an answer of 2 s or more for the close branch's.
--- http_config
    wa_pair_zone pairing:1m;
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_zone_use pairing;
        wa_pair_backend_protocol evolution;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_EVOLUTION_SOCK;
        wa_pair_backend_header apikey evo-key-1;
        wa_pair_backend_header X-Fake-Answer close_stale;
        add_header X-Cache $wa_pair_cache always;
    }
--- request eval
[main::pair("/devices/me/login-code"), main::pair("/devices/me/login-code"), "GET /fake-stats/evolution"]
--- error_code eval
[503, 503, 200]
--- response_headers eval
["Retry-After: 5", "X-Cache: miss", ""]
--- response_body eval
[$main::NotReady, $main::NotReady, main::calls(2)]
--- no_error_log
PREV2345
PREV-2345



=== TEST 30b: evolution: the close state's answer is logged as what it is, its code never
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol evolution;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_EVOLUTION_SOCK;
        wa_pair_backend_header apikey evo-key-1;
        wa_pair_backend_header X-Fake-Answer close_stale;
    }
--- request eval
main::pair("/devices/me/login-code")
--- error_code: 503
--- error_log eval
qr/\[error\].*evolution pairing backend .* answered 200: answered a closed instance's QR state \(2 s after starting its connection\): its code may be the previous connection's, for another number; not answered \(phone 62812\*\*\*\*890\)/
--- no_error_log
PREV2345
PREV-2345



=== TEST 31: gowa: the device header is encoded the way GoWA decodes it (QueryUnescape): "+" and "%" reach the right device
--- config
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol gowa;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_GOWA_SOCK;
        wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0";
    }
--- more_headers eval
[WaPairTest::auth_header(device_id => 'ops+1'), "", WaPairTest::auth_header(device_id => 'x%41'), ""]
--- request eval
[main::pair("/devices/me/login-code"), "GET /fake-last/gowa", main::pair("/devices/me/login-code"), "GET /fake-last/gowa"]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
['^' . quotemeta(main::ok_envelope("GWA2-CDE3", 80)) . '$', '"x-device-id":"ops%2B1"',
 '^' . quotemeta(main::ok_envelope("GWA2-CDE3", 80)) . '$', '"x-device-id":"x%2541"']



=== TEST 32: base paths: origin's HTTP_BASE_URL and GoWA's APP_BASE_PATH go in wa_pair_backend's path; without them, the engine's 404 is a 502
The fakes serve their routes under X-Fake-Base-Path, as the engines do under their setting.
--- config
    location = /origin {
        wa_pair;
        wa_pair_backend_protocol origin;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_ORIGIN_SOCK:/api/v1/devices/me/login-code;
        wa_pair_backend_header X-Fake-Base-Path /api/v1;
    }
    location = /origin-no-base {
        wa_pair;
        wa_pair_backend_protocol origin;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_ORIGIN_SOCK;
        wa_pair_backend_header X-Fake-Base-Path /api/v1;
    }
    location = /gowa {
        wa_pair;
        wa_pair_backend_protocol gowa;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_GOWA_SOCK:/gowa/app/login-with-code;
        wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0";
        wa_pair_backend_header X-Fake-Base-Path /gowa;
    }
    location = /gowa-no-base {
        wa_pair;
        wa_pair_backend_protocol gowa;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_GOWA_SOCK;
        wa_pair_backend_header Authorization "Basic YWRtaW46czNjcmV0";
        wa_pair_backend_header X-Fake-Base-Path /gowa;
    }
--- request eval
[map { main::pair("/$_") } qw(origin origin-no-base gowa gowa-no-base)]
--- error_code eval
[200, 502, 200, 502]
--- response_body eval
[main::ok_envelope("RGN1-2345", 150), $main::BadAnswer, main::ok_envelope("GWA2-CDE3", 80), $main::BadAnswer]
