use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use IO::Socket::INET;
use Test::Nginx::Socket 'no_plan';

# Findings of make valgrind / make faults, kept as tests.
#
# A backend whose TCP connect never completes: a listening socket that nobody accepts on,
# its accept queue already full, so the kernel drops the module's SYN and the connect stays
# pending. A client that hangs up meanwhile must leave nothing behind (an earlier transport
# once asked epoll about a socket already closed: epoll_ctl() failed (9: Bad file descriptor)
# [alert]); a connect that never completes ends at wa_pair_connect_timeout.

our @Stalled;
{
    my $listener = IO::Socket::INET->new(Listen => 0, LocalAddr => '127.0.0.1',
                                         LocalPort => 0, Proto => 'tcp', ReuseAddr => 1)
        or die "listen: $!";
    push @Stalled, $listener;
    for (1 .. 3) {   # fill the accept queue; these connects may stay pending, that is the point
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $listener->sockport,
                                      Proto => 'tcp', Blocking => 0);
        push @Stalled, $s if $s;
    }
    $ENV{TEST_NGINX_STALLED_PORT} = $listener->sockport;
}

our $Ok = '{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}';
sub main::pair { "POST $_[0]\n{\"phone\":\"6281234567890\"}" }

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => <<'_EOC_') unless defined $block->config;
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /stalled {
        wa_pair;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_STALLED_PORT/v1/pair-code;
    }
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
    }
_EOC_
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'));
    $block->set_value(no_error_log => with_patterns($block->no_error_log,
                          alarming(), defined $block->error_log ? () : '[error]'));
});

workers(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a client that hangs up while the backend connect is in progress leaves no alert, and the next pairing works
--- request eval
[main::pair("/stalled"), main::pair("/devices/me/login-code")]
--- abort
--- timeout: 0.5
--- error_code eval
["", 200]
--- response_body eval
["", $main::Ok]



=== TEST 2: three such clients, one after another
--- request eval
[main::pair("/stalled"), main::pair("/stalled"), main::pair("/stalled"),
 main::pair("/devices/me/login-code")]
--- abort
--- timeout: 0.5
--- error_code eval
["", "", "", 200]
--- response_body eval
["", "", "", $main::Ok]



=== TEST 3: a connect that never completes is a 504 after wa_pair_connect_timeout
--- config
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /stalled {
        wa_pair;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_STALLED_PORT/v1/pair-code;
        wa_pair_connect_timeout 300ms;
    }
--- request eval
main::pair("/stalled")
--- error_code: 504
--- response_body chomp
{"status":false,"code":504,"message":"Gateway timeout","error":"Pairing backend did not answer in time"}
--- no_error_log
[alert]
[crit]
--- error_log
pairing backend "http://127.0.0.1:
