package WaPairEventsTest;

# Helpers for the suites of pairing completion (t/events*.t, t/status.t): the engines' webhooks as each
# engine's code sends them (docs/engines.md, "Events"), signed the way each engine signs them,
# and clients that wait on wa_pair_status. On top of WaPairTest; call them fully qualified
# from --- init and eval sections.
#
# At import it writes the events secret (random, hex) to <dir>/events.key and exports
# TEST_NGINX_EVENTS_SECRET_FILE; the shared header's value (Evolution) is
# TEST_NGINX_EVENTS_HEADER_VALUE. Both are listed for `make test`'s log audit: the secret may
# appear nowhere, the header's value (a credential a client sends) in no line of the module.
#
#   signed(protocol, body)              the signature header line of that engine for body
#   post(uri, body, @header_lines)      a --- request value: "POST uri\n<body>"
#   native(event, device, %fields)      a native event body (docs/protocol.md)
#   origin(event_type, device, at)      go-whatsapp-multi-session-rest-api's WebhookEvent
#   evolution_qr(instance, code, at)    Evolution's qrcode.updated
#   evolution_connection(instance, state, at)
#   waha_status(session, status, ms)    WAHA's session.status
#   wuzapi_form(type, instance)         wuzapi's form body; wuzapi_json(type, instance)
#   gowa(event, session)                a GoWA event
#   rfc3339(epoch_seconds)              Go's time.Time in JSON (nanoseconds, an offset)
#   spray(uri, count => 10000, clients => 4, protocol => 'native', body => sub { $i -> body })
#                                       signed events over keep-alive connections; { status => n }

use strict;
use warnings;

use Carp qw(croak);
use Digest::SHA qw(hmac_sha256_hex hmac_sha512_hex);
use IO::Socket::INET ();
use JSON::PP ();
use POSIX ();
use Time::HiRes ();
use URI::Escape ();

use WaPairTest ();

our $Secret = WaPairTest::random_hex(24);
our $HeaderValue = 'hdr-' . WaPairTest::random_hex(16);
my $Json = JSON::PP->new->canonical;

WaPairTest::write_file("$WaPairTest::Dir/events.key", "$Secret\n");
$ENV{TEST_NGINX_EVENTS_SECRET_FILE} = "$WaPairTest::Dir/events.key";
$ENV{TEST_NGINX_EVENTS_HEADER_VALUE} = $HeaderValue;
WaPairTest::audit_secret($Secret);
WaPairTest::audit_credential($HeaderValue);

my %Scheme = (
    native => ['X-Webhook-Signature', sub { 'sha256=' . hmac_sha256_hex($_[0], $Secret) }],
    origin => ['X-Webhook-Signature', sub { 'sha256=' . hmac_sha256_hex($_[0], $Secret) }],
    gowa   => ['X-Hub-Signature-256', sub { 'sha256=' . hmac_sha256_hex($_[0], $Secret) }],
    waha   => ['X-Webhook-Hmac',      sub { hmac_sha512_hex($_[0], $Secret) }],
    wuzapi => ['x-hmac-signature',    sub { hmac_sha256_hex($_[0], $Secret) }],
);

sub signed {
    my ($protocol, $body) = @_;
    my $s = $Scheme{$protocol} or croak "no signature scheme for $protocol";
    return "$s->[0]: " . $s->[1]->($body);
}

sub post {
    my ($uri, $body) = @_;
    return "POST $uri\n$body";
}

sub native {
    my ($event, $device, %fields) = @_;
    return $Json->encode({ event => $event, device_id => $device, %fields });
}

sub rfc3339 {
    my ($t) = @_;
    my $ns = sprintf '%09d', int(($t - int $t) * 1e9);
    return POSIX::strftime('%Y-%m-%dT%H:%M:%S', gmtime int $t) . ".$ns+00:00";
}

# internal/webhook/types.go WebhookEvent{event_type, device_id, timestamp, data}, marshalled
# by encoding/json in field order.
sub origin {
    my ($type, $device, $at, $data) = @_;
    $data ||= { jid => '', pair_jid => '6281234567890@s.whatsapp.net', platform => 'android' };
    return '{"event_type":' . $Json->encode($type) . ',"device_id":' . $Json->encode($device)
         . ',"timestamp":"' . rfc3339($at // Time::HiRes::time()) . '","data":' . $Json->encode($data) . '}';
}

# webhook.controller.ts emit(): {event, instance, data, destination, date_time, sender,
# server_url, apikey}
sub evolution_body {
    my ($event, $instance, $data, $at) = @_;
    return $Json->encode({ event => $event, instance => $instance, data => $data,
                           destination => 'https://edge.example/events', sender => undef,
                           date_time => POSIX::strftime('%Y-%m-%dT%H:%M:%S.000Z', gmtime($at // time())),
                           server_url => 'http://evolution:8080', apikey => undef });
}

sub evolution_qr {
    my ($instance, $code, $at) = @_;
    return evolution_body('qrcode.updated', $instance,
        { qrcode => { instance => $instance, pairingCode => $code, code => '2@qr+payload',
                      base64 => 'data:image/png;base64,iVBORw0KGgo=' } }, $at);
}

sub evolution_connection {
    my ($instance, $state, $at) = @_;
    return evolution_body('connection.update', $instance,
        { instance => $instance, state => $state, statusReason => 200 }, $at);
}

# core/webhooks.core.ts callWebhook(): {event, session, metadata, me, payload, engine,
# environment}, and waha-docs' "timestamp" (ms)
sub waha_status {
    my ($session, $status, $ms) = @_;
    return $Json->encode({ event => 'session.status', session => $session, payload => { status => $status },
                           engine => 'NOWEB', environment => { tier => 'PLUS' },
                           defined $ms ? (timestamp => $ms) : () });
}

# helpers.go callHookWithHmac(): the form jsonData/userID/instanceName (url.Values.Encode:
# names sorted), or with WEBHOOK_FORMAT=json the event itself with instanceName and userID
sub wuzapi_form {
    my ($type, $instance) = @_;
    my $json = $Json->encode({ type => $type, event => {} });
    return join '&', map { "$_->[0]=" . URI::Escape::uri_escape($_->[1]) }
        (['instanceName', $instance], ['jsonData', $json], ['userID', 'u-1']);
}

sub wuzapi_json {
    my ($type, $instance) = @_;
    return $Json->encode({ type => $type, event => {}, instanceName => $instance, userID => 'u-1' });
}

sub gowa {
    my ($event, $session) = @_;
    return $Json->encode({ event => $event, device_id => '6281234567890@s.whatsapp.net',
                           defined $session ? (session_id => $session) : (),
                           payload => { id => 'M1', chat_id => '6289999@s.whatsapp.net' } });
}

# ---------------------------------------------------------------- raw exchanges for --- init

sub connect_nginx {
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => WaPairTest::server_port(),
                                     Proto => 'tcp', Timeout => 10);
    croak "cannot connect to nginx: $!" unless $sock;
    return $sock;
}

# One request on an open keep-alive connection; returns (status, headers text, body).
sub request_on {
    my ($sock, $method, $uri, $body, @headers) = @_;
    $body = '' unless defined $body;
    my $req = "$method $uri HTTP/1.1\r\nHost: localhost\r\n" . join('', map { "$_\r\n" } @headers)
            . (length $body || $method eq 'POST' ? 'Content-Length: ' . length($body) . "\r\n" : '')
            . "\r\n$body";
    print {$sock} $req or croak "write: $!";
    my $buf = '';
    while ($buf !~ /\r\n\r\n/) {
        my $got = sysread($sock, $buf, 65536, length $buf);
        croak "connection closed before the head" unless $got;
    }
    my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
    my ($status) = $head =~ m{^HTTP/1\.1 (\d{3})} or croak "bad answer: $head";
    my ($length) = $head =~ /^Content-Length:\s*(\d+)/mi;
    $length //= 0;
    while (length $rest < $length) {
        my $got = sysread($sock, $rest, $length - length $rest, length $rest);
        croak "connection closed mid-body" unless $got;
    }
    return ($status, $head, $rest);
}

# The cross-worker wake-up: opens connections until it has one served by each of two workers
# (GET /pid on each tells which), parks `waiters` status requests (?wait=N) for `device` on
# them, spread over both workers, then sends `event` (a POST to `event_uri` with `headers`)
# on a connection of one worker, and measures for each waiter the time from just before the
# event is written to its answer. Returns { event_pid, event_status, waiters => [ { pid,
# status, body, latency } ] }.
sub wake_across_workers {
    my (%o) = @_;
    my $auth = WaPairTest::auth_header(device_id => $o{device});
    my $want = $o{waiters} || 4;
    my $per_worker = int(($want + 1) / 2) + 1;    # its half of the waiters, and the event's
    my (%by_pid, @all);
    for (1 .. 200) {
        my $sock = connect_nginx();
        my ($status, $head) = request_on($sock, 'GET', '/pid');
        my ($pid) = $head =~ /^X-Worker: (\d+)/mi or croak "no X-Worker in: $head";
        push @all, [$pid, $sock];
        if (@{ $by_pid{$pid} || [] } >= $per_worker) {
            next;    # kept open (closed at the end), so that the kernel spreads the next ones
        }
        push @{ $by_pid{$pid} }, $sock;
        last if keys %by_pid >= 2 && !grep { @{ $by_pid{$_} } < $per_worker } keys %by_pid;
    }
    croak "could not reach two workers" unless keys %by_pid >= 2;
    my ($event_pid) = sort keys %by_pid;
    my $event_sock = shift @{ $by_pid{$event_pid} };
    my @waiters;
    my @pids = sort keys %by_pid;
    while (@waiters < $want && grep { @{ $by_pid{$_} } } @pids) {    # alternating workers
        for my $pid (@pids) {
            my $sock = shift @{ $by_pid{$pid} } or next;
            last if @waiters >= $want;
            print {$sock} "GET /status?wait=$o{wait} HTTP/1.1\r\nHost: localhost\r\n$auth\r\n\r\n";
            push @waiters, { pid => $pid, sock => $sock };
        }
    }
    Time::HiRes::sleep(0.3);    # every waiter is parked
    my $rin = '';
    vec($rin, fileno($_->{sock}), 1) = 1 for @waiters;
    my $rout;
    croak "a waiter was answered before the event" if select($rout = $rin, undef, undef, 0);
    my $t0 = Time::HiRes::time();
    my ($event_status) = request_on($event_sock, 'POST', $o{event_uri}, $o{event}, @{ $o{headers} || [] });
    my $pending = @waiters;
    my $deadline = $t0 + $o{wait} + 2;
    while ($pending && Time::HiRes::time() < $deadline) {
        my $n = select($rout = $rin, undef, undef, 0.005);
        next unless $n > 0;
        my $now = Time::HiRes::time();
        for my $w (@waiters) {
            next if defined $w->{latency} || !vec($rout, fileno($w->{sock}), 1);
            $w->{latency} = $now - $t0;
            vec($rin, fileno($w->{sock}), 1) = 0;
            $pending--;
        }
    }
    for my $w (@waiters) {
        next unless defined $w->{latency};
        my $buf = '';
        while ($buf !~ /\r\n\r\n(.*)/s || length($1) < (($buf =~ /Content-Length:\s*(\d+)/i)[0] // 0)) {
            my $got = sysread($w->{sock}, $buf, 65536, length $buf);
            last if !$got;
        }
        ($w->{status}) = $buf =~ m{^HTTP/1\.1 (\d{3})};
        ($w->{body}) = $buf =~ /\r\n\r\n(.*)\z/s;
    }
    close $_->[1] for @all;
    return { event_pid => $event_pid, event_status => $event_status,
             waiters => [ map { { pid => $_->{pid}, status => $_->{status}, body => $_->{body},
                                  latency => $_->{latency} } } @waiters ] };
}

sub spray {
    my ($uri, %o) = @_;
    my $count = $o{count} || 1000;
    my $clients = $o{clients} || 4;
    my $protocol = $o{protocol} || 'native';
    return WaPairTest::tally_clients('event-spray', $clients, sub {
        my ($c, $counts) = @_;
        my $sock;
        for (my $i = $c; $i < $count; $i += $clients) {
            my $body = $o{body}->($i);
            $sock ||= connect_nginx();
            my ($status, $head) = eval { request_on($sock, 'POST', $uri, $body, signed($protocol, $body),
                                                     'Content-Type: application/json') };
            $counts->{ $status // 'no answer' }++;
            # nginx closes a keep-alive connection after keepalive_requests answers
            undef $sock if !$status || $head =~ /^Connection:\s*close/mi;
        }
    });
}

1;
