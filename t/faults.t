use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';
use IO::Socket::UNIX ();

# A backend that fails on the wire, thousands of times (3,700 pairings, 16 faults), leaves
# the worker as it was: every request gets its envelope, the worker is the same process
# afterwards (no crash, no respawn), and it holds no more file descriptors than before but
# for the keep-alive pool.
#
# With a master and ONE worker (read from the master's children in /proc), the block's
# --- init sends 250 pairings to each fault (100 to each slow one) from 8 keep-alive
# clients, between two rounds of 200 healthy pairings; it compares the worker's
# /proc/PID/fd before and after and writes what it saw to result.txt, which the block
# checks. The keep-alive pool can hold one connection per concurrent call: 8.

my $stale = "$WaPairTest::Dir/stale.sock";
IO::Socket::UNIX->new(Local => $stale, Listen => 1) or die "$stale: $!";
chmod 0666, $stale;
$ENV{TEST_NGINX_STALE_SOCK} = $stale;

my $full = "$WaPairTest::Dir/full.sock";                   # a listen queue that is full
our $FullListener = IO::Socket::UNIX->new(Local => $full) or die "$full: $!";
listen($FullListener, 0) or die "listen $full: $!";
chmod 0666, $full;
our $FullQueue = IO::Socket::UNIX->new(Peer => $full) or die "$full: $!";
$ENV{TEST_NGINX_FULL_SOCK} = $full;

our @Faults = (
    # location              count  every answer
    ['/fault/refused',        250, 503],
    ['/fault/missing',        250, 503],
    ['/fault/refused-tcp',    250, 503],
    ['/fault/full-queue',     250, 503],
    ['/fault/close',          250, 502],
    ['/fault/partial',        250, 502],
    ['/fault/reset',          250, 502],
    ['/fault/not-http',       250, 502],
    ['/fault/chunked',        250, 502],
    ['/fault/huge',           250, 502],
    ['/fault/huge-head',      250, 502],
    ['/fault/not-json',       250, 502],
    ['/fault/bad-code',       250, 502],
    ['/fault/server-error',   250, 500],
    ['/fault/trickle',        100, 504],
    ['/fault/slow',           100, 504],
);
our $Clients = 8;

sub main::fault_run {
    my $dir = $WaPairTest::Dir;
    WaPairTest::hammer(paths => ['/healthy'], count => 200, concurrency => $Clients);
    my $worker = WaPairTest::nginx_worker_pid();
    my $before = WaPairTest::settled_fd_count($worker);
    my $text = '';
    for my $fault (@Faults) {
        my ($path, $count) = @$fault;
        my $answers = WaPairTest::hammer(paths => [$path], count => $count,
                                         concurrency => $Clients)->{$path};
        $text .= join '', map { "$path $_ x$answers->{$_}\n" } sort keys %$answers;
    }
    my $healthy = WaPairTest::hammer(paths => ['/healthy'], count => 200,
                                     concurrency => $Clients)->{'/healthy'};
    $text .= join '', map { "/healthy $_ x$healthy->{$_}\n" } sort keys %$healthy;
    my $worker_after = WaPairTest::nginx_worker_pid();
    my $after = WaPairTest::settled_fd_count($worker_after);
    $text .= $worker_after == $worker ? "worker unchanged\n" : "worker changed: $worker -> $worker_after\n";
    $text .= $after <= $before + $Clients
        ? "fds within the keep-alive pool\n"
        : "fds GREW: $before before, $after after\n";
    WaPairTest::write_file("$dir/result.txt", $text);
    diag("worker $worker: $before fds before, $after after the faults") if $ENV{TEST_VERBOSE};
}

our $Expected = join('', map { "$_->[0] $_->[2] x$_->[1]\n" } @Faults)
    . "/healthy 200 x200\nworker unchanged\nfds within the keep-alive pool\n";

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'));
    # nothing alarming may reach the error log, whatever the block proves
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

master_on();
workers(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: 3,700 faulted pairings: each gets its envelope; the worker survives and keeps no fd
--- log_level: error
--- config
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /healthy            { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=HEA1THY2; }
    location = /fault/refused      { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_STALE_SOCK; }
    location = /fault/missing      { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_NO_BACKEND_SOCK; }
    location = /fault/refused-tcp  { wa_pair; wa_pair_backend http://127.0.0.1:1; }
    location = /fault/full-queue   { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_FULL_SOCK; }
    location = /fault/close        { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=close; }
    location = /fault/partial      { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=partial; }
    location = /fault/reset        { wa_pair; wa_pair_backend http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/v1/pair-code?garbage=reset; }
    location = /fault/not-http     { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=http; }
    location = /fault/chunked      { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=chunked-bad; }
    location = /fault/huge         { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=huge; }
    location = /fault/huge-head    { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=bighead; }
    location = /fault/not-json     { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=notjson; }
    location = /fault/bad-code     { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=badcode; }
    location = /fault/server-error { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?status=500; }
    location = /fault/trickle      { wa_pair; wa_pair_backend_timeout 200ms; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?garbage=trickle; }
    location = /fault/slow         { wa_pair; wa_pair_backend_timeout 100ms; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?delay=1; }
    location = /result             { alias $TEST_NGINX_WA_DIR/result.txt; }
--- init
main::fault_run();
--- request
GET /result
--- response_body eval
$main::Expected
--- timeout: 120
