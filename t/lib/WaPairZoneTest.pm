package WaPairZoneTest;

# Helpers for t/zone.t (the edge policy across workers), on top of WaPairTest. Called from
# --- init, which both runners evaluate after nginx has started and before the block's
# requests; call them fully qualified (WaPairZoneTest::reload_nginx()).
#
#   pair_raw(uri, device => 'dev-42', phone => '6281234567890', refresh => 1)
#                         a complete POST of the login-code body with a token for the device
#   request_sync(raw)     sends it to nginx and returns the whole answer
#   reload_nginx()        HUP to the master; returns once every worker is a new one and the
#                         old ones have stopped accepting (they finish what they serve)
#   spray(uri, device => 'dev-b', count => 10000, first => 628100000000, clients => 4,
#         devices => 0)   `count` pairings of one device, each for another number (first,
#                         first + 1, ...), over keep-alive connections; returns { status => n }.
#                         devices => 1: each request from another device too ("dev-b-<i>")

use strict;
use warnings;

use Carp qw(croak);
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes ();

use WaPairTest ();

sub pair_raw {
    my ($uri, %o) = @_;
    my $device = exists $o{device} ? $o{device} : 'dev-42';
    my $phone = defined $o{phone} ? $o{phone} : '6281234567890';
    my $body = '{"phone":"' . $phone . '"' . ($o{refresh} ? ',"refresh":true' : '') . '}';
    my $auth = defined $device ? WaPairTest::auth_header(device_id => $device) . "\n" : '';
    return "POST $uri HTTP/1.1\nHost: localhost\n${auth}Content-Type: application/json\n"
         . "Connection: close\n\n$body";
}

sub request_sync {
    my ($raw) = @_;
    my ($head, $body) = split /\n\n/, $raw, 2;
    $body = '' unless defined $body;
    $head =~ s/\r?\n/\r\n/g;
    return WaPairTest::exchange("$head\r\nContent-Length: " . length($body) . "\r\n\r\n$body");
}

sub pid_file {
    return $Test::Nginx::Util::PidFile if defined $Test::Nginx::Util::PidFile;
    my $root = $ENV{TEST_NGINX_SERVROOT} || "$WaPairTest::RepoRoot/t/servroot";
    return "$root/logs/nginx.pid";
}

sub master_pid {
    open my $fh, '<', pid_file() or croak "no nginx pid file " . pid_file() . ": $!";
    my $pid = <$fh>;
    close $fh;
    croak "bad nginx pid file" unless defined $pid && $pid =~ /^(\d+)/;
    return $1;
}

# pid -> process title of the master's children ("nginx: worker process" ...)
sub children {
    my ($ppid) = @_;
    my %titles;
    opendir my $dh, '/proc' or croak "/proc: $!";
    for my $pid (grep { /^\d+$/ } readdir $dh) {
        open my $st, '<', "/proc/$pid/stat" or next;
        my $stat = <$st>;
        close $st;
        next unless defined $stat && $stat =~ /^\d+ \(.*\) (\S) (\d+)/;
        next if $1 eq 'Z' || $2 != $ppid;
        open my $cl, '<', "/proc/$pid/cmdline" or next;
        my $title = do { local $/; <$cl> };
        close $cl;
        $title = '' unless defined $title;
        $title =~ s/\0+$//;
        $titles{$pid} = $title;
    }
    closedir $dh;
    return \%titles;
}

sub accepting_workers {
    my ($kids) = @_;
    return grep { $kids->{$_} =~ /worker process$/ } keys %$kids;
}

sub spray {
    my ($uri, %o) = @_;
    my $count = $o{count} || 1000;
    my $clients = $o{clients} || 4;
    my $first = $o{first} || 628100000000;
    my $device = $o{device} || 'dev-spray';
    return WaPairTest::tally_clients('spray', $clients, sub {
        my ($c, $counts) = @_;
        my $auth = WaPairTest::auth_header(device_id => $device);
        my $sock;
        for (my $i = $c; $i < $count; $i += $clients) {
            my $body = '{"phone":"' . ($first + $i) . '"}';
            $auth = WaPairTest::auth_header(device_id => "$device-$i") if $o{devices};
            my $req = "POST $uri HTTP/1.1\r\nHost: localhost\r\n$auth\r\n"
                . "Content-Type: application/json\r\nContent-Length: " . length($body)
                . "\r\n\r\n$body";
            $sock ||= IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                            PeerPort => WaPairTest::server_port(), Proto => 'tcp');
            my ($status, $keepalive) = $sock && (print {$sock} $req) ? WaPairTest::read_answer($sock) : ();
            $counts->{ $status // 'no answer' }++;
            undef $sock unless $status && $keepalive;
        }
    });
}

sub reload_nginx {
    my $master = master_pid();
    my %old = map { $_ => 1 } accepting_workers(children($master));
    croak "nginx has no worker process (master_on?)" unless %old;
    kill 'HUP', $master or croak "cannot signal nginx $master: $!";
    my $deadline = Time::HiRes::time() + 10;
    while (Time::HiRes::time() < $deadline) {
        my @workers = accepting_workers(children($master));
        return scalar @workers if @workers && !grep { $old{$_} } @workers;
        Time::HiRes::sleep(0.02);
    }
    croak "nginx did not reload within 10 s";
}

1;
