package Test::Nginx::Socket;

use strict;
use warnings;

our $VERSION = '0.01-compat';

=head1 NAME

Test::Nginx::Socket - small compatible stand-in for openresty's Test::Nginx::Socket

=head1 DESCRIPTION

The real Test::Nginx (openresty/test-nginx) is preferred whenever it is
installed: t/*.t files do C<BEGIN { push @INC, 't/lib' }>, so this copy is the
last resort.  It exists because Debian does not package Test::Nginx, and is
written from scratch on Debian-packaged modules (Test::Base for the blocks and
their filters, Test::LongString, HTTP::Response).  It reproduces:

=over

=item * environment: TEST_NGINX_BINARY, _LOAD_MODULES, _PORT / _SERVER_PORT,
_SERVROOT, _LOG_LEVEL, _NO_CLEAN, _VERBOSE, _TIMEOUT, _NO_SHUFFLE; the
C<$TEST_NGINX_*> expansion (incl. _RAND_PORT_N) in config sections, user_files
and expected bodies.

=item * the nginx.conf layout; nginx is restarted for each block with a
C<--- config> (C<-p servroot/ -c conf/nginx.conf -e logs/error.log>, temp
paths under servroot, C<user root;> as root); a block without one reuses it.

=item * sections: config, http_config, main_config, post_main_config,
server_name, log_level, error_log_file, post_setup_server_root, init,
user_files, request (string or arrayref), more_headers, raw_request (string or
packets), raw_request_middle_delay, pipelined_requests, shutdown, timeout,
abort, wait, ignore_response, error_code(_like), response_headers ("!Name" =
absent), response_headers_like, raw_response_headers_like/unlike,
response_body(_like/_unlike), error_log, no_error_log, must_die,
suppress_stderr, and Test::Base's SKIP/ONLY/LAST.

=item * TEST_NGINX_USE_VALGRIND: nginx in the foreground under valgrind (see
Util.pm); the reports go where the valgrind options send them.

=item * the functions of the real one's export list that make sense here, and
Test::Base's (plan, blocks, no_diff...); C<$Test::Nginx::Util::ServerPort>...

=back

Not covered (a block using them fails, saying so): tcp/udp mock servers,
HTTP/2-3, stap, check-leak, HUP reloads, access_log and
shutdown_error_log checks, skip_*/todo*, response_body_filters,
grep_error_log, a request given as an array of packets (use raw_request).

=cut

use Test::Base -base;
use Test::Nginx::Util;
use HTTP::Response ();
use IO::Select ();
use IO::Socket::INET ();
use List::Util qw(min);
use POSIX qw(EAGAIN EINTR);
use Time::HiRes qw(sleep time);

our @EXPORT = qw(
    env_to_nginx is_str plan run_tests run_test repeat_each config_preamble
    worker_connections master_process_enabled no_long_string workers
    master_on master_off log_level no_shuffle no_root_location
    server_name server_addr server_root html_dir server_port
    server_port_for_client timeout check_accum_error_log
    add_block_preprocessor bail_out add_test_cleanup_handler
    add_cleanup_handler
);

$RunTestHelper = \&run_test_helper;
$CheckErrorLog = \&check_error_log;

my @Unsupported = qw(
    tcp_listen tcp_reply udp_listen udp_reply http2 http3 stap stap_out
    stap_out_like curl access_log no_access_log shutdown_error_log
    no_shutdown_error_log skip_nginx skip_nginx2 skip_openssl
    skip_slave todo todo_nginx request_eval response_body_eval charset
    response_body_json_sort reload_fails response_body_filters grep_error_log
    grep_error_log_out
);

# ---- building requests ----

# "--- more_headers": one "Name: value" per line, '#' lines ignored.
sub parse_more_headers {
    my ($text) = @_;
    my ($out, $chunked) = ('', 0);
    for my $line (split /\n+/, $text // '') {
        next if $line =~ /^\s*#/;
        my ($k, $v) = split /:\s*/, $line, 2;
        $v //= '';
        $chunked = 1 if lc $k eq 'transfer-encoding' && $v eq 'chunked';
        $out .= "$k: $v\r\n";
    }
    ($out, $chunked);
}

# "METHOD [URI [VERSION]]\nbody" -> full HTTP/1.x request with Host,
# Connection, the extra headers and, for a body, Content-Length.
sub build_request {
    my ($name, $text, $more_headers, $conn) = @_;
    my ($hdrs, $chunked) = parse_more_headers($more_headers);
    my ($line, $body) = split /\n/, $text, 2;
    $body //= '';
    $line =~ /^\s*(\S+) *(?:(\S+) *)?(?:(\S+) *)?\s*$/
        or bail_out("$name - Request line is not valid. Should be 'meth [url [version]]' but got \"$line\".");
    my ($meth, $uri, $ver) = ($1, $2 // '/', $3 // 'HTTP/1.1');
    my $len = '';
    if (!$chunked && $body ne '' && $hdrs !~ /(?:^|\n)Content-Length:/) {
        $body =~ s/^\s+|\s+$//g;
        $len = 'Content-Length: ' . length($body) . "\r\n";
    }
    my $std = '';
    $std .= "Host: $ServerName\r\n" if $hdrs !~ /(?:^|\n)Host:/i;
    $std .= "Connection: $conn\r\n" if $hdrs !~ /(?:^|\n)Connection/i;
    "$meth $uri $ver\r\n$std$hdrs$len\r\n$body";
}

sub more_headers_for {
    my ($name, $mh, $i) = @_;
    return $mh // '' unless ref $mh eq 'ARRAY';
    defined $mh->[$i] or bail_out("$name - --- more_headers lacks data for request $i");
    $mh->[$i];
}

# Returns a list of requests; each request is a list of packets
# ({value => bytes, delay_before => seconds}).
sub requests_from_block {
    my ($block) = @_;
    my $name = $block->name;
    if (defined(my $raw = $block->raw_request)) {
        return [map { ref $_ ? $_ : { value => $_ } } ref $raw eq 'ARRAY' ? @$raw : ($raw)];
    }
    my $mh = $block->more_headers;
    if (my $reqs = $block->pipelined_requests) {
        ref $reqs eq 'ARRAY' or bail_out("$name - invalid entries in --- pipelined_requests");
        my $all = '';
        for my $i (0 .. $#$reqs) {
            my $r = expand_env_in_text($reqs->[$i], $name, $Test::Nginx::Util::RandPorts);
            $all .= build_request($name, $r, more_headers_for($name, $mh, $i),
                                  $i == $#$reqs ? 'close' : 'keep-alive');
        }
        return [{ value => $all }];
    }
    my $req = $block->request;
    bail_out("$name - request empty") unless defined $req;
    my @list = ref $req eq 'ARRAY' ? @$req : ($req);
    my @out;
    for my $i (0 .. $#list) {
        my $r = $list[$i];
        bail_out("$name - a request as an array of packets is not supported by the "
                 . "compat runner; use --- raw_request") if ref $r;
        1 while $r =~ s/^\s*#[^\n]+\s+|^\s+//s;    # leading blanks and comments
        push @out, [{ value => build_request($name, $r, more_headers_for($name, $mh, $i), 'close') }];
    }
    @out;
}

# ---- talking to nginx: one fresh TCP connection per request ----

sub connect_server {
    my ($name, $timeout) = @_;
    my $deadline = time + $timeout;
    while (1) {
        my $sock = IO::Socket::INET->new(PeerAddr => $ServerAddr,
                                         PeerPort => $ServerPortForClient,
                                         Proto => 'tcp', Timeout => $timeout);
        return $sock if $sock;
        if (time >= $deadline) {
            fail("$name - Can't connect to $ServerAddr:$ServerPortForClient: $! (aborted)\n");
            return undef;
        }
        sleep 0.05;
    }
}

# Sends the packets and reads until the server closes the connection.
# $timeout is an idle timeout, like the real one's select() loop.
sub send_request {
    my ($packets, $block, $timeout) = @_;
    my $name = $block->name;
    my $sock = connect_server($name, $timeout) or return '';
    $sock->blocking(0);
    local $SIG{PIPE} = 'IGNORE';
    my @todo = map { {%$_} } @$packets;
    my ($resp, $off, $reading, $writing, $werr) = ('', 0, 1, 1);
    my $middle = $block->raw_request_middle_delay;
    while ($reading || $writing) {
        my $rsel = IO::Select->new($reading ? $sock : ());
        my $wsel = IO::Select->new($writing ? $sock : ());
        my ($r, $w) = IO::Select->select($rsel, $wsel, undef, $timeout);
        if (!$r && !$w) {
            next if $! == EINTR;
            close $sock;
            if (defined $block->abort) { sleep 0.005 }
            else { fail("ERROR: client socket timed out - $name\n") }
            return $resp;
        }
        if ($w && @$w) {
            my $buf = $todo[0]{value};
            my $n = syswrite $sock, $buf, length($buf) - $off, $off;
            if (!defined $n && $! != EAGAIN) {    # e.g. EPIPE: still read the answer
                warn "write failed: $!\n";
                $werr = "write failed: $!";
                $writing = 0;
            } elsif (defined $n && ($off += $n) >= length $buf) {
                shift @todo;
                $off = 0;
                if (!@todo) {
                    $writing = 0;
                    if (defined(my $how = $block->shutdown)) {
                        shutdown $sock, $how =~ /^\s*$/ ? 1 : $how;
                    }
                } elsif (my $d = $todo[0]{delay_before} // $middle) {
                    sleep $d;
                }
            }
        }
        if ($r && @$r) {
            my $n = sysread $sock, my $chunk, 8192;
            if (!defined $n) {
                next if $! == EAGAIN;
                warn "WARNING: $name - HTTP response read failure: $!\n";
                $reading = 0;
            } elsif ($n == 0) {
                $reading = $writing = 0;
            } else {
                $resp .= $chunk;
            }
        }
    }
    close $sock;
    $resp eq '' && defined $werr ? $werr : $resp;
}

# ---- parsing the response ----

# Returns (HTTP::Response, raw status line + headers, bytes left over).
# Chunked bodies are decoded; bytes beyond Content-Length are left over
# (used by pipelined_requests).
sub parse_response {
    my ($name, $raw, $head_req) = @_;
    my $raw_headers = $raw =~ /^(.*?\r\n)\r\n/s ? $1 : '';
    my $res = HTTP::Response->parse($raw);
    my $code = $res->code;
    $res->code(undef) if defined $code && $code !~ /^\d+$/;
    return ($res, $raw_headers) if $code && $code =~ /^(?:304|101)$/;

    my $te = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');
    my $left;
    if (defined $te && $te eq 'chunked') {
        my $body = $res->content // '';
        my $decoded = '';
        while (1) {
            if ($body =~ /\G[ \t]*([0-9A-Fa-f]+)[^\r\n]*\r\n/gc) {
                my $size = hex $1;
                if ($size == 0) {
                    # optional trailer fields, then the final CRLF
                    $body =~ /\G(?:[^\r\n]+\r\n)*\r\n/gc
                        or return chunk_error("$name - invalid chunked data received (expected CRLF).");
                    $left = substr $body, pos $body if pos($body) < length $body;
                    last;
                }
                return chunk_error("$name - invalid chunked data received "
                                   . "(not enough octets for the data section)")
                    if length($body) - pos($body) < $size;
                $decoded .= substr $body, pos($body), $size;
                pos($body) += $size;
                $body =~ /\G\r\n/gc
                    or return chunk_error("$name - invalid chunked data received (expected CRLF).");
            } elsif ($body =~ /\G(.+)/gcs) {
                return chunk_error("$name - invalid chunked body received: $1");
            } else {
                return chunk_error("$name - no last chunk found - $body");
            }
        }
        $res->content($decoded);
    } elsif (defined $len && $len =~ /^\d+$/) {
        my $body = $res->content // '';
        if (length $body > $len) {
            $left = substr $body, $len;
            $res->content(substr $body, 0, $len);
        } elsif (length $body < $len && !$head_req) {
            warn "WARNING: $name - response body truncated: $len expected, but got ",
                 length $body, "\n";
        }
    }
    ($res, $raw_headers, $left);
}

sub chunk_error { fail($_[0]); return }

# ---- response checks ----

# With several requests, expected values are arrays indexed by request.
sub get_indexed_value {
    my ($name, $value, $idx, $need_array) = @_;
    if (ref $value eq 'ARRAY') {
        return $value->[$need_array ? $idx : 0];
    }
    bail_out("$name - You asked for many requests, the expected results should be arrays as well.")
        if $need_array;
    $value;
}

sub subst_port {
    my $s = shift;
    return $s if !defined $s || ref $s;
    $s =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
    $s =~ s/\$ServerPort\b/$ServerPort/g;
    $s;
}

sub check_error_code {
    my ($block, $res, $idx, $need_array) = @_;
    my $name = $block->name;
    my $got = ($res && $res->code) || '';
    if (defined(my $like = $block->error_code_like)) {
        $like = get_indexed_value($name, $like, $idx, $need_array);
        return like($got, qr/$like/sm, "$name - status code ok");
    }
    my $want = $block->error_code;
    $want = defined $want ? get_indexed_value($name, $want, $idx, $need_array) : 200;
    is($got, $want, "$name - status code ok");
}

sub check_raw_response_headers {
    my ($block, $raw_headers, $idx, $need_array) = @_;
    my $name = $block->name;
    if (defined(my $re = $block->raw_response_headers_like)) {
        $re = get_indexed_value($name, $re, $idx, $need_array);
        like($raw_headers, qr/$re/s, "$name - raw resp headers like");
    }
    if (defined(my $re = $block->raw_response_headers_unlike)) {
        $re = get_indexed_value($name, $re, $idx, $need_array);
        unlike($raw_headers, qr/$re/s, "$name - raw resp headers unlike");
    }
}

sub check_response_headers {
    my ($block, $res, $raw_headers, $idx, $need_array) = @_;
    my $name = $block->name;
    if (defined(my $spec = $block->response_headers)) {
        my $h = parse_headers(get_indexed_value($name, $spec, $idx, $need_array));
        for my $key (sort keys %$h) {
            if (!defined $h->{$key}) {
                unlike($raw_headers, qr/^\s*\Q$key\E\s*:/ms,
                       "$name - header $key not present in the raw headers");
                next;
            }
            my $got = $res ? $res->header($key) : undef;
            is($got // '', subst_port($h->{$key}), "$name - header $key ok");
        }
    } elsif (defined(my $like = $block->response_headers_like)) {
        my $h = parse_headers(get_indexed_value($name, $like, $idx, $need_array));
        for my $key (sort keys %$h) {
            my $got = $res ? $res->header($key) : undef;
            like($got // '', qr/^$h->{$key}$/, "$name - header $key like ok");
        }
    }
}

sub check_response_body {
    my ($block, $res, $idx, $rep, $need_array) = @_;
    my $name = $block->name;
    my $content = $res ? $res->content : undef;
    if (defined(my $want = $block->response_body)) {
        $want = get_indexed_value($name, $want, $idx, $need_array);
        $want = expand_env_in_text(subst_port($want), $name, $Test::Nginx::Util::RandPorts) unless ref $want;
        my $desc = "$name - response_body - ";
        if (ref $want) {
            like($content, $want, $desc . "like (repeated req $rep, req $idx)");
        } else {
            is_str($content, $want, $desc . "response is expected (repeated req $rep, req $idx)");
        }
    } elsif (defined $block->response_body_like || defined $block->response_body_unlike) {
        my $type = defined $block->response_body_like ? 'like' : 'unlike';
        my $method = "response_body_$type";
        my $pat = subst_port(get_indexed_value($name, $block->$method, $idx, $need_array));
        my $desc = "$name - response_body_$type - response is expected ("
                 . (trim($content) // '') . ")";
        $type eq 'like' ? like($content, qr/$pat/s, $desc) : unlike($content, qr/$pat/s, $desc);
    }
}

# ---- error log checks ----

sub fmt_str {
    my $s = shift;
    chomp $s;
    $s =~ s/"/\\"/g; $s =~ s/\r/\\r/g; $s =~ s/\n/\\n/g;
    $s;
}

sub pattern_list {
    my $pats = shift;
    return [$pats] if ref $pats eq 'Regexp';
    return [@$pats] if ref $pats eq 'ARRAY';
    chomp $pats;
    [split /\n+/, $pats];
}

sub line_matches {
    my ($line, $pat) = @_;
    (ref $pat && $line =~ /$pat/) || $line =~ /\Q$pat\E/;
}

# does a pattern spec (string, regexp or array of them) mention $word?
sub mentions {
    my ($v, $word) = @_;
    return 0 unless defined $v;
    return scalar grep { mentions($_, $word) } @$v if ref $v eq 'ARRAY';
    "$v" =~ /\Q$word\E/;
}

sub check_error_log {
    my ($block, $res, $dry_run, $rep, $need_array) = @_;
    my $name = $block->name;
    my $lines = error_log_data() || [];

    if (defined(my $spec = $block->error_log)) {
        my $pats = pattern_list($spec);
        for my $line (@$lines) {
            for my $pat (@$pats) {
                next unless defined $pat && line_matches($line, $pat);
                pass("$name - pattern \"$pat\" matches a line in error.log (req $rep)");
                undef $pat;
            }
        }
        defined && fail("$name - pattern \"$_\" should match a line in error.log (req $rep)")
            for @$pats;
    }

    if (defined(my $spec = $block->no_error_log)) {
        my $pats = pattern_list($spec);
        my %found;
        for my $i (0 .. $#$lines) {
            for my $pat (grep { defined } @$pats) {
                next unless line_matches($lines->[$i], $pat);
                $found{$pat} = 1;
                my @more = @$lines[$i + 1 .. min($i + 9, $#$lines)];
                fail("$name - pattern \"" . fmt_str($pat) . "\" should not match any line in "
                     . "error.log but matches line \"" . fmt_str($lines->[$i]) . "\" (req $rep)\n"
                     . join '', @more);
            }
        }
        pass("$name - pattern \"" . fmt_str($_) . "\" does not match a line in error.log (req $rep)")
            for grep { defined && !$found{$_} } @$pats;
    }

    # like the real one: warn about alert/crit/emerg lines nobody asked for
    for my $level (qw(alert crit emerg)) {
        next if mentions(scalar $block->error_log, "[$level")
             || mentions(scalar $block->no_error_log, "[$level");
        /\[$level\]/ and warn "WARNING: $name - ", fmt_str($_), "\n" for @$lines;
    }
    for my $line (@$lines) {
        fail("$name - $1") if $line =~ /(\bAssertion .*?failed\b.*)/;
    }
}

# ---- one block, one repetition ----

sub run_test_helper {
    my ($block, $dry_run, $rep) = @_;
    my $name = $block->name;
    for my $sec (@Unsupported) {
        next unless defined $block->$sec;
        fail("$name - section '--- $sec' is not supported by the compat runner in t/lib; "
             . "install the real Test::Nginx");
        return;
    }
    my @reqs = requests_from_block($block);
    bail_out("$name - request empty") unless @reqs;
    my $timeout = parse_time(scalar $block->timeout) // timeout();
    my $n = $block->pipelined_requests ? scalar @{ $block->pipelined_requests } : 0;
    my $need_array = $n ? 1 : @reqs > 1;
    my ($idx, $res) = (0);

    for my $req (@reqs) {
        my $head_req = join('', map { $_->{value} } @$req) =~ /^\s*HEAD\s/ ? 1 : 0;
        my $raw = send_request($req, $block, $timeout);
        while (1) {
            my ($raw_headers, $left);
            if (!defined $block->ignore_response) {
                ($res, $raw_headers, $left) = parse_response($name, $raw // '', $head_req);
                check_error_code($block, $res, $idx, $need_array);
                check_raw_response_headers($block, $raw_headers // '', $idx, $need_array);
                check_response_headers($block, $res, $raw_headers // '', $idx, $need_array);
                check_response_body($block, $res, $idx, $rep, $need_array);
            }
            if ($n) { $raw = $left; $n-- }
            elsif (defined $left && $left ne '') {
                (my $l = $left) =~ s/([\0-\037\200-\377])/sprintf('\x{%02x}', ord $1)/eg;
                warn "WARNING: $name - unexpected extra bytes after the response: \"$l\"\n";
            }
            if ($n || $idx < $#reqs) {
                sleep $block->wait if $block->wait;
                check_error_log($block, $res, $dry_run, $rep, $need_array);
            }
            $idx++;
            last unless $n;
        }
    }
    sleep $block->wait if $block->wait;
    check_error_log($block, $res, $dry_run, $rep, $need_array);
}

1;
