package WaPairMetricsTest;

# Helpers for t/metrics.t (docs/metrics.md), on top of WaPairTest and WaPairZoneTest. Called from
# --- init (call them fully qualified). A block's init sends its requests, scrapes, and writes
# what it found to a report file that the block then GETs and compares as its body.
#
#   post(uri, auth => 'Authorization: ...' | undef, phone => '628...', method => 'POST')
#                          one request on its own connection; returns (status, X-Worker)
#   scrape()               GET /metrics: the exposition, croaks unless 200 with the
#                          Content-Type of the text format 0.0.4
#   samples(text)          the exposition read by the Prometheus client's own parser
#                          (t/lib/prom_samples.py): "name{labels} value" lines, sorted, and
#                          "# family name type" lines
#   value(\@samples, 'name{labels}')   a sample's value (labels sorted by name), undef if absent
#   report(name, @lines)   writes the report a block GETs (/report/<name>.txt)

use strict;
use warnings;

use Carp qw(croak);

use WaPairTest ();

sub post {
    my ($uri, %o) = @_;
    my $method = $o{method} || 'POST';
    my $phone = defined $o{phone} ? $o{phone} : '6281234567890';
    my $body = $method eq 'POST' ? qq({"phone":"$phone"}) : '';
    my @headers = ('Host: localhost', 'Connection: close', 'Content-Type: application/json');
    push @headers, $o{auth} if defined $o{auth};
    push @headers, 'Content-Length: ' . length($body) if $method eq 'POST';
    my $answer = WaPairTest::exchange("$method $uri HTTP/1.1\r\n" . join('', map { "$_\r\n" } @headers)
                                      . "\r\n$body");
    my ($status) = $answer =~ m{^HTTP/1\.1 (\d{3})};
    my ($worker) = $answer =~ m{\r\nX-Worker: (\d+)\r\n}i;
    return ($status // 'no answer', $worker // '?');
}

sub scrape {
    my $answer = WaPairTest::exchange("GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    my ($head, $body) = split /\r\n\r\n/, $answer, 2;
    croak "scrape: no answer" unless defined $head;
    croak "scrape: $head" unless $head =~ m{^HTTP/1\.1 200 };
    croak "scrape: wrong Content-Type in $head"
        unless $head =~ m{\r\nContent-Type: text/plain; version=0\.0\.4\r\n}i;
    return $body // '';
}

sub samples {
    my ($text) = @_;
    my $in = "$WaPairTest::Dir/scrape.txt";
    WaPairTest::write_file($in, $text);
    my $helper = "$WaPairTest::RepoRoot/t/lib/prom_samples.py";
    my $out = `/usr/bin/python3 $helper < $in 2>&1`;
    croak "samples: $out" if $? != 0;
    return [split /\n/, $out];
}

sub value {
    my ($samples, $key) = @_;
    for my $line (@$samples) {
        my ($k, $v) = $line =~ /^(\S.*) (\S+)$/ or next;
        return $v if $k eq $key;
    }
    return undef;
}

sub report {
    my ($name, @lines) = @_;
    WaPairTest::write_test_file("$name.txt", join('', map { "$_\n" } @lines));
}

1;
