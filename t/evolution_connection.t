use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# Evolution's connection as the edge knows it (docs/engines.md, "Evolution's close state").
# A closed instance's pairing call starts a connection for its number and answers, 2 s later,
# the QR state the previous connection left (its code, possibly for another number): a 503.
# Until the new connection's first QR, a retry reads that same state at once, looking like any
# live answer; and every code the new connection makes is for the number it was started
# with. The edge remembers the connection (in the zone, else in the worker), so neither the
# previous connection's code nor a code made for another number is ever answered.
#
# tools/fake_engines.py, X-Fake-Answer never_ready: the new connection never shows a QR (the
# old state stays); closed: its first QR comes just after the close-state answer, with a code
# for whatever number asks (the engine's code would be the connection's number's). The log
# lines' texts are the core's (t/unit/backend/session_test.cpp): the runner checks error_log
# patterns after each request of a block.

start_fakes(evolution => 'evo-key-1');

our $Location = <<'_EOC_';
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend_protocol evolution;
        wa_pair_backend http://unix:$TEST_NGINX_FAKE_EVOLUTION_SOCK;
        wa_pair_backend_header apikey evo-key-1;
        wa_pair_backend_header X-Fake-Answer @ANSWER@;
        @ZONE@
    }
    location = /fake-session/evolution { proxy_pass http://unix:$TEST_NGINX_FAKE_EVOLUTION_SOCK:/_session; }
_EOC_

our $First = '6281234567890';
our $Other = '6281298765432';
sub main::ok_envelope {
    my ($code, $timeout) = @_;
    return qq({"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"$code","timeout":$timeout}});
}
our $NotReady = '{"status":false,"code":503,"message":"Service unavailable","error":"Pairing backend is unavailable"}';
our $InProgress = '{"status":false,"code":409,"message":"Conflict","error":"A pairing request for this device is already in progress"}';
sub main::pair { "POST /devices/me/login-code\n{\"phone\":\"$_[0]\"}" }

add_block_preprocessor(sub {
    my $block = shift;
    my $zone = $block->zone // '';
    (my $location = $Location) =~ s/\@ZONE\@/$zone/;
    my $answer = $block->answer;
    $location =~ s/\@ANSWER\@/$answer/;
    $block->set_value(config => ($block->config // '') . $location);
    $block->set_value(http_config => "    wa_pair_zone pairing:1m;\n" . ($block->http_config // ''))
        if $zone ne '';
    $block->set_value(init => "WaPairTest::backend_call('POST', '/_reset', \$ENV{TEST_NGINX_FAKE_EVOLUTION_SOCK});\n"
                              . ($block->init // ''));
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'));
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

workers(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: without a zone: the close-state answer is a 503, and so is the retry that reads the previous connection's code at once
--- answer: never_ready
--- request eval
[main::pair($main::First), main::pair($main::First), main::pair($main::First)]
--- error_code eval
[503, 503, 503]
--- response_body eval
[$main::NotReady, $main::NotReady, $main::NotReady]
--- response_headers eval
["Retry-After: 5", "Retry-After: 5", "Retry-After: 5"]
--- no_error_log
PREV2345
PREV-2345



=== TEST 2: without a zone: one connection started, its stale state read twice more, never answered
--- answer: never_ready
--- request eval
[main::pair($main::First), main::pair($main::First), main::pair($main::First), "GET /fake-session/evolution"]
--- error_code eval
[503, 503, 503, 200]
--- response_body eval
[$main::NotReady, $main::NotReady, $main::NotReady,
 '{"calls":["GET /instance/connect/default?number=6281234567890"],"starts":1}']



=== TEST 3: without a zone: once the new connection's code is there it is answered, to the connection's number only
--- answer: closed
--- request eval
[main::pair($main::First), main::pair($main::First), main::pair($main::Other)]
--- error_code eval
[503, 200, 409]
--- response_body eval
[$main::NotReady, main::ok_envelope("EV12-34XY", 15), $main::InProgress]
--- no_error_log
PREV2345
PREV-2345
6281298765432
6281234567890



=== TEST 4: with a zone: the previous connection's code is never answered
--- zone: wa_pair_zone_use pairing;
--- answer: never_ready
--- request eval
[main::pair($main::First), main::pair($main::First), main::pair($main::First)]
--- error_code eval
[503, 503, 503]
--- response_body eval
[$main::NotReady, $main::NotReady, $main::NotReady]
--- no_error_log
PREV2345
PREV-2345



=== TEST 5: with a zone: the connection's number gets its code, another number 409
--- zone: wa_pair_zone_use pairing;
--- answer: closed
--- request eval
[main::pair($main::First), main::pair($main::First), main::pair($main::Other)]
--- error_code eval
[503, 200, 409]
--- response_body eval
[$main::NotReady, main::ok_envelope("EV12-34XY", 15), $main::InProgress]
--- no_error_log
PREV2345
PREV-2345



=== TEST 6: an instance already connecting when the edge saw nothing: its code of the moment, as before
--- answer: success
--- request eval
[main::pair($main::First), main::pair($main::Other)]
--- error_code eval
[200, 200]
--- response_body eval
[main::ok_envelope("EV12-34XY", 15), main::ok_envelope("EV12-34XY", 15)]
