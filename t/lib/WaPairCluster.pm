package WaPairCluster;

# The scale-out topology of docs/scale-out.md for t/scale_out.t: the files of `make cluster`
# (tools/cluster_setup.sh: conf/cluster-edge.conf, conf/cluster-owner.conf) in the test's
# temp dir, on free ports of 23100-23990, with 2 edge nginx (edge-a, edge-b, plain HTTP on
# 127.0.0.1), 3 owner nginx (owner-1..3 on 127.0.0.2-4, TLS from a CA made for the run) and
# one development backend per owner on its Unix socket. Every nginx runs in the foreground as
# a child of the test, with its own prefix and port; all stop at exit, and their error logs go
# to make test's audit. The nginx and module are TEST_NGINX_BINARY and TEST_NGINX_LOAD_MODULES.
#
#   start(placement => { 'dev-1' => 'owner-1', ... },     placement.map before the edges start
#         engine_args => { 'owner-1' => ['--delay', '0.5'] })   dev_backend flags of an engine
#   post('edge-a', device => 'dev-1', phone => '6281...', refresh => 1, auth => 'Authorization: ...')
#       -> { status => 200, headers => { lc name => value }, body => '...' }
#   post_together(['edge-a', %o], ['edge-b', %o])   the same, sent at once from forked clients
#   engine_calls() -> { 'owner-1' => N, ... }       the pairing calls each engine received
#   set_placement(dev => 'owner-1', ...)            writes placement.map (the edges read it
#                                                   at their next start or reload)
#   stop_node(name), start_node(name), reload_node(name)

use strict;
use warnings;

use Carp qw(croak);
use IO::Socket::INET ();
use IO::Socket::SSL ();
use POSIX ();
use Time::HiRes ();

use WaPairTest ();
use WaPairZoneTest ();

our $Dir;          # the cluster's directory
our %Node;         # name -> { addr, port, pid }
my $Background = 0;  # post_background's answers, numbered
my $OwnerPid = $$;

sub start {
    my (%o) = @_;
    croak "WaPairCluster: import WaPairTest first (use WaPairTest qw(...))" unless $WaPairTest::Dir;
    $Dir = "$WaPairTest::Dir/cluster";
    my $base = free_base();
    local $ENV{CLUSTER_SECRET_FILE} = $ENV{TEST_NGINX_JWT_SECRET_FILE};
    local $ENV{CLUSTER_LOG_LEVEL} = $o{log_level} || 'debug';   # the suite's audit reads debug logs
    local $ENV{CLUSTER_MODULE} = module();
    run_quiet("$WaPairTest::RepoRoot/tools/cluster_setup.sh", $Dir, $base);
    set_placement(%{ $o{placement} }) if $o{placement};
    for my $line (split /\n/, WaPairTest::slurp("$Dir/nodes.txt")) {
        my ($name, $addr, $port) = split ' ', $line;
        $Node{$name} = { addr => $addr, port => $port };
    }
    my $python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
    for my $owner (owners()) {
        $WaPairTest::BackendPids{"cluster-$owner"} = WaPairTest::spawn_backend(
            "$Dir/$owner/logs/engine.log", $python, "$WaPairTest::RepoRoot/tools/dev_backend.py",
            '--socket', engine_socket($owner), @{ ($o{engine_args} || {})->{$owner} || [] });
    }
    for my $owner (owners()) {
        wait_until(sub { -S engine_socket($owner) && eval { WaPairTest::backend_stats(engine_socket($owner)); 1 } },
                   "the engine of $owner", "$Dir/$owner/logs/engine.log");
    }
    start_node($_) for owners(), edges();
    return 1;
}

sub owners { grep { /^owner-/ } sort keys %Node }
sub edges  { grep { /^edge-/ } sort keys %Node }
sub engine_socket { "$Dir/$_[0]/engine.sock" }
sub module { $ENV{TEST_NGINX_LOAD_MODULES} || "$WaPairTest::RepoRoot/build/ngx_http_wa_pair_module.so" }
sub nginx_binary { $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx' }

# A base port whose 5 ports are free on their addresses.
sub free_base {
    for (my $base = 23100; $base <= 23970; $base += 20) {
        my @want = (['127.0.0.1', $base + 1], ['127.0.0.1', $base + 2], map { ["127.0.0." . ($_ + 1), $base + 10 + $_] } 1 .. 3);
        my $free = 1;
        for my $w (@want) {
            my $s = IO::Socket::INET->new(LocalAddr => $w->[0], LocalPort => $w->[1], Listen => 1, ReuseAddr => 1);
            if ($s) { close $s } else { $free = 0; last }
        }
        return $base if $free;
    }
    croak "WaPairCluster: no free ports in 23100-23990";
}

sub run_quiet {
    my (@cmd) = @_;
    my $out = "$WaPairTest::Dir/cluster-setup.out";
    my $pid = fork();
    croak "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>', $out or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        exec @cmd or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    croak "WaPairCluster: @cmd failed ($?):\n" . WaPairTest::slurp($out) if $?;
}

sub wait_until {
    my ($ready, $what, $log, $pid) = @_;
    my $deadline = Time::HiRes::time() + 15;
    until ($ready->()) {
        if (($pid && waitpid($pid, POSIX::WNOHANG()) == $pid) || Time::HiRes::time() > $deadline) {
            croak "WaPairCluster: $what did not come up:\n" . WaPairTest::slurp($log);
        }
        Time::HiRes::sleep(0.02);
    }
}

sub listening {
    my ($name) = @_;
    return IO::Socket::INET->new(PeerAddr => $Node{$name}{addr}, PeerPort => $Node{$name}{port}) ? 1 : 0;
}

# ---------------------------------------------------------------- nodes

sub start_node {
    my ($name) = @_;
    my $node = "$Dir/$name";
    croak "WaPairCluster: $name runs already" if $Node{$name}{pid};
    unlink "$node/nginx.pid";
    my $pid = WaPairTest::spawn_backend("$node/logs/nginx.out", nginx_binary(),
        '-p', "$node/", '-c', "$node/nginx.conf", '-e', "$node/logs/error.log");
    $Node{$name}{pid} = $pid;
    wait_until(sub { listening($name) && -s "$node/nginx.pid" }, "nginx of $name",
               "$node/logs/error.log", $pid);
}

# TERM (nginx's fast shutdown: its connections are closed at once), then waits for it.
sub stop_node {
    my ($name) = @_;
    my $pid = delete $Node{$name}{pid} or croak "WaPairCluster: $name is not running";
    kill 'TERM', $pid;
    my $deadline = Time::HiRes::time() + 10;
    while (waitpid($pid, POSIX::WNOHANG()) == 0) {
        if (Time::HiRes::time() > $deadline) { kill 'KILL', $pid; waitpid($pid, 0); last }
        Time::HiRes::sleep(0.02);
    }
}

# HUP: nginx reads its configuration again (the placement map too); returns once every worker
# is a new one.
sub reload_node {
    my ($name) = @_;
    my $master = $Node{$name}{pid} or croak "WaPairCluster: $name is not running";
    my %old = map { $_ => 1 } WaPairZoneTest::accepting_workers(WaPairZoneTest::children($master));
    kill 'HUP', $master or croak "cannot signal $name: $!";
    my $deadline = Time::HiRes::time() + 10;
    while (Time::HiRes::time() < $deadline) {
        my @workers = WaPairZoneTest::accepting_workers(WaPairZoneTest::children($master));
        return scalar @workers if @workers && !grep { $old{$_} } @workers;
        Time::HiRes::sleep(0.02);
    }
    croak "WaPairCluster: $name did not reload within 10 s";
}

sub set_placement {
    my (%owner) = @_;
    WaPairTest::write_file("$Dir/placement.map.new", join '', map { "$_ $owner{$_};\n" } sort keys %owner);
    rename "$Dir/placement.map.new", "$Dir/placement.map" or croak "rename: $!";
}

sub engine_calls {
    return { map { $_ => WaPairTest::backend_stats(engine_socket($_))->{requests} } owners() };
}

sub log_of { WaPairTest::slurp("$Dir/$_[0]/logs/$_[1]") }   # log_of('owner-1', 'access.log')

# ---------------------------------------------------------------- requests

sub post {
    my ($name, %o) = @_;
    my $phone = $o{phone} || '6281234567890';
    my $body = '{"phone":"' . $phone . '"' . ($o{refresh} ? ',"refresh":true' : '') . '}';
    my $auth = exists $o{auth} ? $o{auth} : WaPairTest::auth_header(device_id => $o{device} || 'dev-42');
    my $request = "POST /devices/me/login-code HTTP/1.1\r\nHost: $name\r\n"
        . (defined $auth ? "$auth\r\n" : '')
        . "Content-Type: application/json\r\nContent-Length: " . length($body) . "\r\nConnection: close\r\n\r\n$body";
    my $n = $Node{$name} or croak "no node $name";
    my $sock = $name =~ /^owner-/
        ? IO::Socket::SSL->new(PeerAddr => $n->{addr}, PeerPort => $n->{port}, Timeout => 10,
                               SSL_hostname => $name, SSL_verifycn_name => $name, SSL_verifycn_scheme => 'http',
                               SSL_verify_mode => IO::Socket::SSL::SSL_VERIFY_PEER(),
                               SSL_ca_file => "$Dir/pki/ca.pem")
        : IO::Socket::INET->new(PeerAddr => $n->{addr}, PeerPort => $n->{port}, Timeout => 10);
    return { status => 0, error => "connect: $! " . ($IO::Socket::SSL::SSL_ERROR || '') } unless $sock;
    print {$sock} $request;
    my $answer = '';
    local $SIG{ALRM} = sub { die "no answer from $name within 20 s\n" };
    alarm 20;
    eval { while (1) { my $got = sysread($sock, $answer, 65536, length $answer); last unless $got } 1 };
    alarm 0;
    close $sock;
    return parse($answer);
}

sub parse {
    my ($answer) = @_;
    my ($head, $body) = split /\r\n\r\n/, $answer, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.[01] (\d{3})};
    return { status => 0, error => 'no answer', raw => $answer } unless $status;
    my %headers;
    for my $line (split /\r\n/, $head) {
        $headers{ lc $1 } = $2 if $line =~ /^([^:\s]+):\s*(.*)$/;
    }
    return { status => $status, headers => \%headers, body => $body // '' };
}

# Sends each [name, %o] from a client of its own, all at once; returns the answers in order.
sub post_together {
    my (@requests) = @_;
    my @pids;
    for my $i (0 .. $#requests) {
        my $file = "$WaPairTest::Dir/cluster-together-$i.out";
        unlink $file;
        my $pid = fork();
        croak "fork: $!" unless defined $pid;
        if ($pid == 0) {
            my $r = eval { post(@{ $requests[$i] }) } || { status => 0, error => $@ };
            WaPairTest::write_file($file, join "\n", $r->{status}, $r->{headers}{'retry-after'} // '',
                                   $r->{body} // $r->{error} // '');
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    waitpid($_, 0) for @pids;
    return map {
        my ($status, $retry, $body) = split /\n/, WaPairTest::slurp("$WaPairTest::Dir/cluster-together-$_.out"), 3;
        { status => $status, headers => { length $retry ? ('retry-after' => $retry) : () }, body => $body }
    } 0 .. $#requests;
}

# Forks a client that posts and keeps its answer; background_result(pid) waits for it.
sub post_background {
    my (@request) = @_;
    my $file = "$WaPairTest::Dir/cluster-bg-" . ++$Background . ".out";
    my $pid = fork();
    croak "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my $r = eval { post(@request) } || { status => 0, error => $@ };
        WaPairTest::write_file($file, join "\n", $r->{status}, $r->{body} // $r->{error} // '');
        POSIX::_exit(0);
    }
    return { pid => $pid, file => $file };
}

sub background_result {
    my ($bg) = @_;
    waitpid($bg->{pid}, 0);
    my ($status, $body) = split /\n/, WaPairTest::slurp($bg->{file}), 2;
    return { status => $status, body => $body };
}

END {
    if ($$ == $OwnerPid && $Dir) {
        my $status = $?;
        for my $name (edges(), owners()) {
            stop_node($name) if $Node{$name}{pid};
        }
        if (my $audit = $ENV{WA_PAIR_AUDIT_LOG}) {    # make test's audit of the error logs
            open my $out, '>>:raw', $audit or die "$audit: $!";
            print {$out} WaPairTest::slurp("$Dir/$_/logs/error.log") for edges(), owners();
            close $out;
        }
        $? = $status;
    }
}

1;
