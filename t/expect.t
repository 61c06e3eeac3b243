use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use IO::Socket::INET ();
use Test::Nginx::Socket 'no_plan';

# "Expect: 100-continue": a client that asks before it sends its body is invited to send it
# only when the module is going to read it. An answer given before the body is read (401,
# 405, 413, 415) comes first, without a "100 Continue", as nginx's own 413 does.
#
# --- init sends each head over a raw socket (no body), reads what nginx writes first, sends
# the body only after a "100 Continue", and writes the first line of every answer it got to
# result.txt.

our $Config = <<'_EOC_';
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    lingering_timeout 200ms;
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=ABCD1234;
    }
    location = /result {
        alias $TEST_NGINX_WA_DIR/result.txt;
    }
_EOC_

# One exchange: the head, then the body only if nginx says 100 Continue first. Returns the
# status lines nginx wrote, in order.
sub main::ask_first {
    my ($method, $length, @headers) = @_;
    my $body = '{"phone":"6281234567890"}';
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => WaPairTest::server_port(),
                                     Proto => 'tcp', Timeout => 5) or die "connect: $!";
    print {$sock} join("\r\n", "$method /devices/me/login-code HTTP/1.1", 'Host: localhost',
                       @headers, "Content-Length: $length", 'Expect: 100-continue',
                       'Connection: close', '', '');
    my @lines;
    my $buf = '';
    my $deadline = time + 5;
    while (time < $deadline) {
        my $rin = '';
        vec($rin, fileno($sock), 1) = 1;
        last unless select(my $rout = $rin, undef, undef, 1);
        last unless sysread($sock, $buf, 65536, length $buf);
        while ($buf =~ s{^(HTTP/1\.1 \d{3}[^\r]*)\r\n((?:[^\r]+\r\n)*)\r\n}{}) {
            my ($line, $head) = ($1, $2);
            push @lines, $line;
            if ($line =~ / 100 /) {
                print {$sock} $body;
                next;
            }
            return @lines;   # a final answer: its body does not matter here
        }
    }
    return @lines;
}

sub main::expect_run {
    my $json = 'Content-Type: application/json';
    my @cases = (
        ['200 (the body is read)', 'POST', 25, WaPairTest::auth_header(), $json],
        ['413 (a body over the limit)', 'POST', 999999, WaPairTest::auth_header(), $json],
        ['401 (no credential)', 'POST', 25, $json],
        ['401 (a bad token)', 'POST', 25, 'Authorization: Bearer a.b.c', $json],
        ['415 (a type the module does not read)', 'POST', 25, WaPairTest::auth_header(), 'Content-Type: text/plain'],
        ['405 (not a POST)', 'PUT', 25, WaPairTest::auth_header(), $json],
    );
    my $text = '';
    for my $case (@cases) {
        my ($name, @args) = @$case;
        $text .= "$name: " . join(' | ', main::ask_first(@args)) . "\n";
    }
    WaPairTest::write_file("$WaPairTest::Dir/result.txt", $text);
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $Config);
    # nothing alarming may reach the error log, whatever the block proves
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a 100 Continue only before an answer that reads the body; 401, 405, 413 and 415 come without one
--- init
main::expect_run();
--- request
GET /result
--- response_body
200 (the body is read): HTTP/1.1 100 Continue | HTTP/1.1 200 OK
413 (a body over the limit): HTTP/1.1 413 Request Entity Too Large
401 (no credential): HTTP/1.1 401 Unauthorized
401 (a bad token): HTTP/1.1 401 Unauthorized
415 (a type the module does not read): HTTP/1.1 415 Unsupported Media Type
405 (not a POST): HTTP/1.1 405 Not Allowed
--- timeout: 30
