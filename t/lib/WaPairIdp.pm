package WaPairIdp;
# An identity provider for the tests of keys fetched from URLs (t/jwks.t): tools/fake_idp.py
# serving JWK Sets and OpenID configurations over HTTPS with the test PKI's server certificate,
# ordered and counted through its plain-HTTP control port; and tokens minted by PyJWT, beside
# WaPairTest's Crypt::JWT ones, with the same key pairs.
#
#   start_idp()                    exports TEST_NGINX_IDP_PORT (HTTPS, 127.0.0.1); again after
#                                  stop_idp(): the same port
#   idp_route('/jwks.json', $body, status => 200, cache_control => 'max-age=60', delay => 1,
#             location => 'https://...', pad => 2097152)
#   idp_hits('/jwks.json')         GETs of the path so far
#   jwks_of('rsa', 'ec256', ...)   a JWK Set of the public halves, kid = $WaPairTest::Kid{...}
#   pyjwt_token(alg => 'RS256', kid => 'rsa-1', claims => {...})
use strict;
use warnings;

use Carp qw(croak);
use Exporter 'import';
use IO::Socket::INET;
use POSIX ();
use JSON::PP ();
use Time::HiRes ();

use WaPairTest ();

our @EXPORT = qw(start_idp stop_idp idp_route idp_hits idp_reset jwks_of pyjwt_token);

our $Port;
our $ControlPort;
my @Routes;   # every idp_route() so far: a restarted provider is given them again

sub control {
    my ($method, $path, $body) = @_;
    $body = '' unless defined $body;
    my $sock = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ControlPort")
        or croak "fake IdP control port $ControlPort: $!";
    print {$sock} "$method $path HTTP/1.1\r\nHost: idp\r\nContent-Length: " . length($body)
        . "\r\nConnection: close\r\n\r\n$body";
    local $/;
    my $resp = <$sock>;
    close $sock;
    croak "fake IdP: no answer to $method $path" unless defined $resp;
    my ($head, $rest) = split /\r\n\r\n/, $resp, 2;
    croak "fake IdP: $method $path: $head" unless $head =~ m{^HTTP/1\.[01] 200};
    return $rest;
}

sub start_idp {
    my $pki = WaPairTest::make_test_pki();
    $Port        ||= WaPairTest::free_tcp_port();
    $ControlPort ||= WaPairTest::free_tcp_port();
    my $python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
    my $log = "$WaPairTest::Dir/idp.log";
    my $pid = WaPairTest::spawn_backend($log, $python, "$WaPairTest::RepoRoot/tools/fake_idp.py",
        '--listen', "127.0.0.1:$Port", '--control', "127.0.0.1:$ControlPort",
        '--tls-cert', "$pki/server.pem", '--tls-key', "$pki/server.key");
    $WaPairTest::BackendPids{idp} = $pid;
    my $deadline = Time::HiRes::time() + 15;
    until (eval { control('GET', '/hits'); 1 }) {
        if (waitpid($pid, POSIX::WNOHANG()) == $pid || Time::HiRes::time() > $deadline) {
            delete $WaPairTest::BackendPids{idp};
            croak "the fake IdP did not come up:\n" . WaPairTest::slurp($log);
        }
        Time::HiRes::sleep(0.05);
    }
    $ENV{TEST_NGINX_IDP_PORT} = $Port;
    put_route(@$_) for @Routes;
    return $Port;
}

sub stop_idp {
    my $pid = delete $WaPairTest::BackendPids{idp} or return;
    kill 'TERM', $pid;
    waitpid($pid, 0);
}

sub idp_route {
    push @Routes, [@_];
    put_route(@_);
}

sub put_route {
    my ($path, $body, %q) = @_;
    my $query = join '&', map { "$_=" . uri_escape($q{$_}) } sort keys %q;
    control('PUT', '/route?path=' . uri_escape($path) . ($query ? "&$query" : ''), $body);
}

sub idp_hits  { 0 + control('GET', '/hits?path=' . uri_escape($_[0])) }
sub idp_reset { control('POST', '/reset') }

sub uri_escape {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

# A JWK Set of the named key pairs' public halves (rsa ec256 ed25519 ..., rsa_other ...), each
# with its kid from %WaPairTest::Kid (an _other pair: that kid with "-other"), or the kids given
# as name => kid pairs in a hash ref.
sub jwks_of {
    my @keys;
    for my $item (@_) {
        my ($name, $kid) = ref $item ? %$item : ($item, undef);
        my ($base) = $name =~ /^(\w+?)(?:_other)?$/;
        $kid = $WaPairTest::Kid{$base} . ($name =~ /_other$/ ? '-other' : '') unless defined $kid;
        my $jwk = WaPairTest::key_pair($name)->export_key_jwk('public', 1);
        push @keys, { %$jwk, kid => $kid, use => 'sig' };
    }
    return JSON::PP->new->canonical->encode({ keys => \@keys });
}

# A token minted by PyJWT with the private half of a WaPairTest key pair, given to PyJWT as a
# JWK (its own from_jwk reads it).
sub pyjwt_token {
    my (%o) = @_;
    my $alg = $o{alg} || 'RS256';
    my $name = WaPairTest::alg_key_name($alg);
    $name .= '_other' if ($o{key} || '') eq 'other';
    my $json = JSON::PP->new->canonical;
    my $jwk = $json->encode(WaPairTest::key_pair($name)->export_key_jwk('private', 1));
    my %claims = (device_id => 'dev-42', exp => time() + 3600, %{ $o{claims} || {} });
    my %headers = defined $o{kid} ? (kid => $o{kid}) : ();
    my $script = <<'_PY_';
import json, sys
import jwt
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
jwk, claims, alg, headers = sys.argv[1:5]
kty = json.loads(jwk)["kty"]
key = {"RSA": RSAAlgorithm, "EC": ECAlgorithm, "OKP": OKPAlgorithm}[kty].from_jwk(jwk)
print(jwt.encode(json.loads(claims), key, algorithm=alg, headers=json.loads(headers)))
_PY_
    my $python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
    open my $fh, '-|', $python, '-c', $script, $jwk, $json->encode(\%claims), $alg, $json->encode(\%headers)
        or croak "python3: $!";
    my $token = <$fh>;
    close $fh or croak "PyJWT could not mint a $alg token ($?)";
    chomp $token;
    return $token;
}

1;
