package WaPairTest;

# Test support for the ngx_wa_pair Test::Nginx suites (t/*.t).
#
# At import it:
#   - makes this process the child subreaper (fast nginx restarts, see become_subreaper),
#   - makes a private temp dir (mode 0755: nginx workers must reach the socket in it),
#   - writes the JWT secret files the suites configure (see %ENV below),
#   - starts the development backend tools/dev_backend.py twice: on <dir>/backend.sock
#     (TEST_NGINX_BACKEND_SOCK) and on 127.0.0.1:<free port> (TEST_NGINX_BACKEND_PORT),
#   - exports the paths to the suites as TEST_NGINX_* variables, which Test::Nginx
#     expands in --- config, --- http_config and --- main_config.
# At exit it stops the backend and removes the dir.
#
# The JWTs are minted with Crypt::JWT (Debian's libcrypt-jwt-perl), an implementation
# independent of the module's own verifier.
#
# Sections that Test::Nginx evaluates (--- more_headers eval, --- init) run in the
# runner's packages: call these helpers fully qualified, e.g. WaPairTest::token().

use strict;
use warnings;

use Exporter ();
use Carp qw(croak);
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IO::Socket::UNIX;
use JSON::PP ();
use MIME::Base64 qw(encode_base64url);
use POSIX ();
use Socket qw(SOCK_STREAM);
use Time::HiRes ();

BEGIN {
    unless (eval { require Crypt::JWT; 1 }) {
        die "WaPairTest needs Crypt::JWT: apt-get install libcrypt-jwt-perl\n";
    }
}

our @EXPORT_OK = qw(token raw_jwt auth_header with_headers with_patterns raw_post
                    secret wrong_secret binary_secret
                    backend_stats backend_reset wait_backend_requests backend_connections
                    start_fakes hammer nginx_worker_pid fd_count settled_fd_count
                    background_request background_result server_port);
our %EXPORT_TAGS = (all => \@EXPORT_OK);

our $Dir;             # the private temp dir
our $RepoRoot;        # the checkout this file belongs to
our %BackendPids;     # 'unix', 'tcp', 'fake-<engine>' -> pid of a backend process
our $BackendPort;     # TCP port of the second dev backend
my $OwnerPid = $$;    # only this process stops the backend and removes the dir
my %Secrets;          # name -> raw key bytes
my $Started;

sub import {
    my $class = shift;
    setup() unless $Started;
    # export the helpers to the .t file; 'use WaPairTest;' exports all of them
    my @names = @_ ? @_ : @EXPORT_OK;
    local $Exporter::ExportLevel = 1;
    Exporter::import($class, @names);
}

sub setup {
    $Started = 1;
    become_subreaper();
    $RepoRoot = abs_path(dirname(__FILE__) . '/../..');

    $Dir = tempdir('wa-pair-test-XXXXXXXX', TMPDIR => 1, CLEANUP => 0);
    chmod 0755, $Dir or die "chmod $Dir: $!";

    # The secrets: printable text with a trailing newline (what `openssl rand -hex 32 >f`
    # writes), the same key with CRLF, a raw binary key with a NUL inside, a different key
    # for "wrong secret" tests, and an empty file (refused by nginx -t).
    $Secrets{main}   = random_hex(32);
    $Secrets{wrong}  = random_hex(32);
    $Secrets{binary} = random_binary_key(48);

    write_file("$Dir/jwt.key",        $Secrets{main} . "\n");
    write_file("$Dir/jwt-crlf.key",   $Secrets{main} . "\r\n");
    write_file("$Dir/jwt-wrong.key",  $Secrets{wrong} . "\n");
    write_file("$Dir/jwt-binary.key", $Secrets{binary});
    write_file("$Dir/jwt-empty.key",  '');

    $ENV{TEST_NGINX_WA_DIR}                  = $Dir;
    $ENV{TEST_NGINX_JWT_SECRET_FILE}         = "$Dir/jwt.key";
    $ENV{TEST_NGINX_JWT_SECRET_FILE_CRLF}    = "$Dir/jwt-crlf.key";
    $ENV{TEST_NGINX_JWT_SECRET_FILE_WRONG}   = "$Dir/jwt-wrong.key";
    $ENV{TEST_NGINX_JWT_SECRET_FILE_BINARY}  = "$Dir/jwt-binary.key";
    $ENV{TEST_NGINX_JWT_SECRET_FILE_EMPTY}   = "$Dir/jwt-empty.key";
    $ENV{TEST_NGINX_BACKEND_SOCK}            = "$Dir/backend.sock";
    # a socket path that nothing listens on (the backend unreachable)
    $ENV{TEST_NGINX_NO_BACKEND_SOCK}         = "$Dir/nobody-listens.sock";

    start_backend();
    audit_secrets();
}

# `make test` audits the error logs of the whole suite (tools/test.sh): it names a file that
# collects every block's error.log (WA_PAIR_AUDIT_LOG) and one that lists the secrets that
# must never appear in it (WA_PAIR_AUDIT_SECRETS). Both runners wipe servroot per block, so
# the log is collected before each block and at exit.
sub audit_secrets {
    my $file = $ENV{WA_PAIR_AUDIT_SECRETS} or return;
    open my $fh, '>>', $file or die "$file: $!";
    print $fh "$Secrets{main}\n$Secrets{wrong}\n";
    close $fh;
}

sub collect_error_log {
    my $audit = $ENV{WA_PAIR_AUDIT_LOG} or return;
    my $root = $ENV{TEST_NGINX_SERVROOT} || "$RepoRoot/t/servroot";
    my $log = "$root/logs/error.log";
    return unless -s $log;
    open my $in, '<:raw', $log or return;
    open my $out, '>>:raw', $audit or die "$audit: $!";
    while (my $line = <$in>) {    # never $_: the runners call us aliased to it
        print {$out} $line;
    }
    close $out;
    close $in;
    truncate $log, 0;    # nginx appends (O_APPEND): the next block starts a fresh file
}

INIT {
    if ($ENV{WA_PAIR_AUDIT_LOG} && defined &Test::Nginx::Socket::add_block_preprocessor) {
        Test::Nginx::Socket::add_block_preprocessor(sub { collect_error_log() });
    }
}

# nginx daemonizes: the process Test::Nginx waits for at every restart is an orphan, and an
# orphan's zombie lingers until init reaps it. Where init reaps late (seconds on some
# sandboxes), the real Test::Nginx then spends that long on every block. As the "child
# subreaper" (Linux prctl PR_SET_CHILD_SUBREAPER), this test process receives its orphaned
# nginx instead, and the waitpid() the runner already calls reaps it at once. Best effort.
sub become_subreaper {
    return unless $^O eq 'linux';
    my $sys_prctl = eval { require 'syscall.ph'; &SYS_prctl() };
    return unless defined $sys_prctl;
    syscall($sys_prctl, 36, 1, 0, 0, 0);   # PR_SET_CHILD_SUBREAPER = 36
}

sub random_bytes {
    my ($n) = @_;
    open my $fh, '<:raw', '/dev/urandom' or die "/dev/urandom: $!";
    my $got = read($fh, my $buf, $n);
    die "short read from /dev/urandom" unless defined $got && $got == $n;
    close $fh;
    return $buf;
}

sub random_hex { unpack 'H*', random_bytes($_[0]) }

sub random_binary_key {
    my ($n) = @_;
    my $key = random_bytes($n);
    # a NUL in the middle proves the key is not handled as a C string; the last byte is
    # no newline, which the module would strip
    substr($key, $n / 2, 1) = "\0";
    substr($key, -1, 1) = 'k';
    return $key;
}

sub write_file {
    my ($path, $data) = @_;
    open my $fh, '>:raw', $path or die "$path: $!";
    print {$fh} $data;
    close $fh or die "$path: $!";
    chmod 0644, $path;
}

# ---------------------------------------------------------------- dev backend

sub free_tcp_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', ReuseAddr => 1)
        or die "no free TCP port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub start_backend {
    my $script = "$RepoRoot/tools/dev_backend.py";
    die "WaPairTest: $script does not exist\n" unless -f $script;
    my $python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';

    # One backend on the Unix socket (the usual form), one on TCP (the other form).
    $BackendPort = free_tcp_port();
    $ENV{TEST_NGINX_BACKEND_PORT} = $BackendPort;
    $BackendPids{unix} = spawn_backend("$Dir/backend.log",
                                       $python, $script, '--socket', $ENV{TEST_NGINX_BACKEND_SOCK});
    $BackendPids{tcp}  = spawn_backend("$Dir/backend-tcp.log",
                                       $python, $script, '--listen', "127.0.0.1:$BackendPort");

    my $deadline = Time::HiRes::time() + 15;
    my %up;
    while (Time::HiRes::time() < $deadline) {
        for my $kind (sort keys %BackendPids) {
            my $pid = $BackendPids{$kind};
            if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
                delete $BackendPids{$kind};
                stop_backend();
                die "WaPairTest: the $kind dev backend exited at start:\n"
                    . slurp($kind eq 'unix' ? "$Dir/backend.log" : "$Dir/backend-tcp.log");
            }
        }
        $up{unix} ||= -S $ENV{TEST_NGINX_BACKEND_SOCK} && eval { backend_stats(); 1 };
        $up{tcp}  ||= IO::Socket::INET->new(PeerAddr => "127.0.0.1:$BackendPort") ? 1 : 0;
        return if $up{unix} && $up{tcp};
        Time::HiRes::sleep(0.05);
    }
    stop_backend();
    die "WaPairTest: the dev backend did not come up:\n" . slurp("$Dir/backend.log")
        . slurp("$Dir/backend-tcp.log");
}

sub spawn_backend {
    my ($log, @cmd) = @_;
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log;
        open STDERR, '>&', \*STDOUT;
        POSIX::setsid();
        # the backend goes when this test process goes, even when it is killed (no END)
        my $sys_prctl = eval { require 'syscall.ph'; &SYS_prctl() };
        syscall($sys_prctl, 1, 15, 0, 0, 0) if defined $sys_prctl;   # PR_SET_PDEATHSIG, SIGTERM
        POSIX::_exit(0) if getppid() != $OwnerPid;
        exec @cmd or POSIX::_exit(127);
    }
    return $pid;
}

sub stop_backend {
    for my $kind (sort keys %BackendPids) {
        my $pid = delete $BackendPids{$kind};
        kill 'TERM', $pid;
        my $deadline = Time::HiRes::time() + 3;
        my $gone;
        while (Time::HiRes::time() < $deadline) {
            if (waitpid($pid, POSIX::WNOHANG()) != 0) { $gone = 1; last }
            Time::HiRes::sleep(0.02);
        }
        if (!$gone) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
        }
    }
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or return '';
    local $/;
    my $data = <$fh>;
    return defined $data ? $data : '';
}

# One HTTP/1.1 exchange with the dev backend over its Unix socket (or with another local
# backend: $socket is a socket path, or a TCP port on 127.0.0.1).
sub backend_call {
    my ($method, $path, $socket) = @_;
    $socket = $ENV{TEST_NGINX_BACKEND_SOCK} unless defined $socket;
    my $sock = $socket =~ /^\d+$/
        ? IO::Socket::INET->new(PeerAddr => "127.0.0.1:$socket")
        : IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $socket);
    croak "cannot connect to the backend on $socket: $!" unless $sock;
    print {$sock} "$method $path HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n"
                . "Connection: close\r\n\r\n";
    local $/;
    my $resp = <$sock>;
    close $sock;
    croak "no answer from the dev backend" unless defined $resp;
    my ($head, $body) = split /\r\n\r\n/, $resp, 2;
    croak "bad answer from the dev backend: $resp" unless $head =~ m{^HTTP/1\.[01] 2\d\d};
    if ($head =~ /^Transfer-Encoding:\s*chunked/mi) {
        my $plain = '';
        while ($body =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $plain .= substr($body, 0, $n, '');
            $body =~ s/^\r\n//;
        }
        $body = $plain;
    }
    return $body;
}

# GET /_stats: {"requests":N,...} as a hash reference. (Each takes an optional backend:
# a socket path, or a TCP port for the TCP dev backend: $ENV{TEST_NGINX_BACKEND_PORT}.)
sub backend_stats {
    my $body = backend_call('GET', '/_stats', @_);
    return JSON::PP->new->decode($body);
}

# GET /_connections: how many connections carried pairing requests since the last reset.
sub backend_connections {
    return JSON::PP->new->decode(backend_call('GET', '/_connections', @_))->{connections};
}

# POST /_stats/reset
sub backend_reset {
    backend_call('POST', '/_stats/reset', @_);
    return 1;
}

# Waits until the backend has received at least $n requests since the last reset.
sub wait_backend_requests {
    my ($n, $timeout) = @_;
    $timeout = 5 unless defined $timeout;
    my $deadline = Time::HiRes::time() + $timeout;
    while (Time::HiRes::time() < $deadline) {
        my $stats = backend_stats();
        return $stats if ($stats->{requests} || 0) >= $n;
        Time::HiRes::sleep(0.01);
    }
    croak "the dev backend did not receive $n request(s) within ${timeout}s";
}

# ---------------------------------------------------------------- tokens

sub secret        { $Secrets{main} }
sub wrong_secret  { $Secrets{wrong} }
sub binary_secret { $Secrets{binary} }

# A compact JWS minted by Crypt::JWT.
#   token()                                  HS256, {"device_id":"dev-42","exp":now+3600}
#   token(device_id => 'dev-7', alg => 'HS512')
#   token(exp => undef)                      no exp claim
#   token(exp => time - 60, nbf => time + 60)
#   token(device_id => undef, sub => 'dev-9')
#   token(claims => {api_key_id => 'k1'})    extra claims
#   token(key => 'wrong' | 'binary')         sign with another of the written secrets
#   token(secret => $raw_bytes)              sign with any key
#   token(alg => 'RS256')                    signed with a fresh RSA key (ES256: EC key)
sub token {
    my (%o) = @_;
    my %payload;
    my %defaults = (device_id => 'dev-42', exp => time() + 3600);
    for my $claim (qw(device_id sub exp nbf iat)) {
        my $v = exists $o{$claim} ? $o{$claim} : $defaults{$claim};
        $payload{$claim} = $v if defined $v;
    }
    if ($o{claims}) {
        for my $k (keys %{ $o{claims} }) {
            if (defined $o{claims}{$k}) { $payload{$k} = $o{claims}{$k} }
            else                        { delete $payload{$k} }
        }
    }
    my $alg = $o{alg} || 'HS256';
    my $key = defined $o{secret} ? $o{secret} : $Secrets{ $o{key} || 'main' };
    croak "unknown key $o{key}" unless defined $key;
    $key = asymmetric_key($alg) if $alg =~ /^(?:RS|PS|ES)\d+$/ && !defined $o{secret};
    return Crypt::JWT::encode_jwt(
        payload       => JSON::PP->new->utf8->canonical->encode(\%payload),
        alg           => $alg,
        key           => $key,
        extra_headers => { typ => 'JWT' },
    );
}

# A private key for the asymmetric algorithms (RS256, PS256, ES256 ...), made once.
my %AsymmetricKeys;
sub asymmetric_key {
    my ($alg) = @_;
    if ($alg =~ /^ES/) {
        require Crypt::PK::ECC;
        my %curve = (ES256 => 'secp256r1', ES384 => 'secp384r1', ES512 => 'secp521r1');
        return $AsymmetricKeys{$alg} ||= Crypt::PK::ECC->new->generate_key($curve{$alg});
    }
    require Crypt::PK::RSA;
    return $AsymmetricKeys{rsa} ||= Crypt::PK::RSA->new->generate_key(256);
}

# A JWT assembled by hand, for shapes no library mints:
#   raw_jwt(header => {alg => 'none'}, payload => {...})            empty signature
#   raw_jwt(header => {...}, payload => {...}, sign => 'HS256')     HMAC with the main secret
#   raw_jwt(header_json => '...', payload_json => '...', signature => '...')
#   raw_jwt(..., base64 => 'padded' | 'standard')   segments in a base64 JWS does not allow
sub raw_jwt {
    my (%o) = @_;
    my $json = JSON::PP->new->utf8->canonical;
    my $h = defined $o{header_json}  ? $o{header_json}  : $json->encode($o{header} || { alg => 'HS256', typ => 'JWT' });
    my $p = defined $o{payload_json} ? $o{payload_json}
          : $json->encode($o{payload} || { device_id => 'dev-42', exp => time() + 3600 });
    my $b64 = \&encode_base64url;
    if ($o{base64} && $o{base64} eq 'padded') {          # base64url, but with '=' padding
        $b64 = sub { my $e = encode_base64url($_[0]); $e . '=' x ((4 - length($e) % 4) % 4) };
    } elsif ($o{base64} && $o{base64} eq 'standard') {   # '+' and '/' instead of '-' and '_'
        $b64 = sub { my $e = MIME::Base64::encode_base64($_[0], ''); $e =~ s/=+$//; $e };
    }
    my $input = $b64->($h) . '.' . $b64->($p);
    my $sig = '';
    if (defined $o{signature}) {
        $sig = $o{signature};
    } elsif ($o{sign}) {
        require Digest::SHA;
        my %mac = (HS256 => \&Digest::SHA::hmac_sha256, HS384 => \&Digest::SHA::hmac_sha384,
                   HS512 => \&Digest::SHA::hmac_sha512);
        my $f = $mac{ $o{sign} } or croak "raw_jwt: cannot sign with $o{sign}";
        my $key = defined $o{secret} ? $o{secret} : $Secrets{main};
        $sig = $b64->($f->($input, $key));
    }
    return "$input.$sig";
}

# "Authorization: Bearer <a valid token>" (token() options may be given).
sub auth_header { 'Authorization: Bearer ' . token(@_) }

# Adds the header lines of @defaults to a --- more_headers value (string or array of
# strings) unless that value already has a header of the same name, e.g.
#   with_headers($block->more_headers, auth_header(), 'Content-Type: application/json')
# A line "!Name" in the value (as in --- response_headers) means "send no Name header":
# the default is not added and the line is removed.
sub with_headers {
    my ($more, @defaults) = @_;
    return [ map { with_headers($_, @defaults) } @$more ] if ref $more eq 'ARRAY';
    $more = '' unless defined $more;
    my %omit;
    $omit{ lc $1 } = 1 while $more =~ /^\s*!\s*([^\s:]+)\s*$/mg;
    $more =~ s/^\s*!\s*[^\s:]+\s*(?:\n|\z)//mg;
    for my $line (reverse @defaults) {
        my ($name) = $line =~ /^([^:]+):/ or croak "bad header line $line";
        next if $omit{ lc $name };
        $more = "$line\n$more" unless $more =~ /^\s*\Q$name\E\s*:/mi;
    }
    return $more;
}

# Adds @patterns to a --- no_error_log (or --- error_log) value: a string of lines or an
# array of strings and qr//s. Returns an array reference.
sub with_patterns {
    my ($value, @patterns) = @_;
    my @have;
    if (ref $value eq 'ARRAY')     { @have = @$value }
    elsif (ref $value eq 'Regexp') { @have = ($value) }
    elsif (defined $value)         { @have = grep { length } split /\n+/, $value }
    for my $p (@patterns) {
        push @have, $p unless grep { !ref $_ && !ref $p && $_ eq $p } @have;
    }
    return \@have;
}

# A complete HTTP/1.1 POST for --- raw_request, for what --- request cannot say:
#   raw_post('/devices/me/login-code', headers => [auth_header(), 'Content-Type: ...'],
#            body => '...')                  Content-Length added unless in headers
#   raw_post($uri, headers => [...], chunks => ['{"phone":', '"6281234567890"}'])
#                                            Transfer-Encoding: chunked, one chunk each
sub raw_post {
    my ($uri, %o) = @_;
    my @headers = ('Host: localhost', @{ $o{headers} || [] }, 'Connection: close');
    my $body = '';
    if ($o{chunks}) {
        push @headers, 'Transfer-Encoding: chunked';
        $body .= sprintf("%x\r\n%s\r\n", length $_, $_) for @{ $o{chunks} };
        $body .= "0\r\n\r\n";
    } elsif (defined $o{body}) {
        $body = $o{body};
        push @headers, 'Content-Length: ' . length($body)
            unless grep { /^Content-Length:/i } @headers;
    }
    return "POST $uri HTTP/1.1\r\n" . join('', map { "$_\r\n" } @headers) . "\r\n" . $body;
}

# ---------------------------------------------------------------- a second client

sub server_port {
    my $port = eval { Test::Nginx::Util::server_port() };
    $port ||= $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
    return $port;
}

# Forks a client that sends $raw (a complete HTTP request; "\n" become "\r\n" in the
# head) to nginx and stores the complete answer in <dir>/<name>.out once it has it.
# Returns the child's pid. The child never runs END blocks (it leaves the backend alone).
sub background_request {
    my ($name, $raw) = @_;
    croak "bad name" unless $name =~ /^[\w.-]+$/;
    my ($head, $body) = split /\n\n/, $raw, 2;
    $body = '' unless defined $body;
    $head =~ s/\r?\n/\r\n/g;
    my $request = "$head\r\n";
    $request .= "Content-Length: " . length($body) . "\r\n" if length $body && $head !~ /^Content-Length:/mi;
    $request .= "\r\n$body";

    my $out = "$Dir/$name.out";
    unlink $out;
    my $port = server_port();
    my $pid = fork();
    croak "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my $answer = '';
        eval {
            my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                             Proto => 'tcp', Timeout => 10)
                or die "connect: $!\n";
            print {$sock} $request;
            local $/;
            local $SIG{ALRM} = sub { die "timed out\n" };
            alarm 20;
            my $data = <$sock>;
            alarm 0;
            $answer = defined $data ? $data : '';
            1;
        } or $answer = "CLIENT ERROR: $@";
        write_file("$out.tmp", $answer);
        rename "$out.tmp", $out;
        POSIX::_exit(0);
    }
    return $pid;
}

# The answer a background_request got, '' while it has none.
sub background_result {
    my ($name) = @_;
    return slurp("$Dir/$name.out");
}

# ---------------------------------------------------------------- fake engines

# Starts tools/fake_engines.py once per engine named, on <dir>/fake-<engine>.sock, exported as
# TEST_NGINX_FAKE_<ENGINE>_SOCK; the value is the credential that engine requires (--key: GoWA
# "user:pass", WAHA's X-Api-Key, wuzapi's token, Evolution's apikey; '' for none):
#   start_fakes(gowa => 'user:secret', waha => 'waha-key', origin => '');
# Call it before run_tests(). The fakes stop with the dev backend.
sub start_fakes {
    my (%keys) = @_;
    my $script = "$RepoRoot/tools/fake_engines.py";
    my $python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
    for my $engine (sort keys %keys) {
        my $sock = "$Dir/fake-$engine.sock";
        $ENV{ 'TEST_NGINX_FAKE_' . uc($engine) . '_SOCK' } = $sock;
        $BackendPids{"fake-$engine"} = spawn_backend("$Dir/fake-$engine.log", $python, $script,
            '--engine', $engine, '--socket', $sock, '--key', $keys{$engine});
    }
    my $deadline = Time::HiRes::time() + 15;
    for my $engine (sort keys %keys) {
        my $sock = "$Dir/fake-$engine.sock";
        until (-S $sock && IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $sock)) {
            my $pid = $BackendPids{"fake-$engine"};
            if (waitpid($pid, POSIX::WNOHANG()) == $pid || Time::HiRes::time() > $deadline) {
                delete $BackendPids{"fake-$engine"};
                die "WaPairTest: the fake $engine did not come up:\n" . slurp("$Dir/fake-$engine.log");
            }
            Time::HiRes::sleep(0.02);
        }
    }
    return 1;
}

# ---------------------------------------------------------------- load

# Sends `count` login-code POSTs to each of `paths` in turn, from `concurrency` clients that
# keep their connection alive; returns { path => { status => n } } ('no answer' when the
# connection broke without one).
#   hammer(paths => ['/a', '/b'], count => 1000, concurrency => 4)
sub hammer {
    my (%o) = @_;
    my $clients = $o{concurrency} || 1;
    my $authorization = 'Bearer ' . token();
    my %result;
    for my $path (@{ $o{paths} }) {
        my (@pids, @files);
        for my $i (1 .. $clients) {
            my $n = int($o{count} / $clients) + ($i <= $o{count} % $clients ? 1 : 0);
            my $file = "$Dir/hammer-$i.out";
            unlink $file;
            my $pid = fork();
            croak "fork: $!" unless defined $pid;
            if ($pid == 0) {
                my $counts = eval { hammer_client($path, $n, $authorization) }
                    || { 'client error: ' . ($@ =~ s/\s+/ /gr) => 1 };
                write_file($file, join '', map { "$_\t$counts->{$_}\n" } sort keys %$counts);
                POSIX::_exit(0);
            }
            push @pids, $pid;
            push @files, $file;
        }
        waitpid($_, 0) for @pids;
        for my $file (@files) {
            for my $line (split /\n/, slurp($file)) {
                my ($status, $n) = split /\t/, $line;
                $result{$path}{$status} += $n;
            }
        }
    }
    return \%result;
}

sub hammer_client {
    my ($path, $n, $authorization) = @_;
    my $body = '{"phone":"6281234567890"}';
    my $request = "POST $path HTTP/1.1\r\nHost: localhost\r\nAuthorization: $authorization\r\n"
        . "Content-Type: application/json\r\nContent-Length: " . length($body) . "\r\n\r\n$body";
    my (%counts, $sock);
    local $SIG{ALRM} = sub { die "no answer within 30 s\n" };
    for (1 .. $n) {
        $sock ||= IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => server_port(),
                                        Proto => 'tcp', Timeout => 10)
            or die "connect: $!\n";
        alarm 30;
        my ($status, $keepalive) = (print {$sock} $request) ? read_answer($sock) : ();
        alarm 0;
        $counts{ defined $status ? $status : 'no answer' }++;
        undef $sock unless $status && $keepalive;
    }
    return \%counts;
}

# One HTTP/1.1 answer from $sock: (status, keep-alive) or () when the connection broke.
sub read_answer {
    my ($sock) = @_;
    my $buf = '';
    while ($buf !~ /\r\n\r\n/) {
        my $got = sysread($sock, $buf, 65536, length $buf);
        return () unless $got;
    }
    my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
    my ($status) = $head =~ m{^HTTP/1\.[01] (\d{3}) } or return ();
    my ($length) = $head =~ /^Content-Length:\s*(\d+)/mi;
    $length = 0 unless defined $length;
    while (length $rest < $length) {
        my $got = sysread($sock, $rest, $length - length $rest, length $rest);
        return () unless $got;
    }
    return ($status, $head !~ /^Connection:\s*close/mi);
}

# ---------------------------------------------------------------- the nginx worker

# The pid of the nginx worker serving the tests: the master's only child (the pid file's
# process itself when nginx runs without a master).
sub nginx_worker_pid {
    my $root = do { no warnings "once"; $Test::Nginx::Util::ServRoot } || $ENV{TEST_NGINX_SERVROOT} || "$RepoRoot/t/servroot";
    my ($master) = slurp("$root/logs/nginx.pid") =~ /(\d+)/ or croak "no nginx.pid in $root/logs";
    my @children = map { split ' ', slurp($_) } glob("/proc/$master/task/*/children");
    croak "nginx has more than one worker: @children" if @children > 1;
    return @children ? $children[0] : $master;
}

# How many file descriptors the process has open.
sub fd_count {
    my ($pid) = @_;
    opendir my $dir, "/proc/$pid/fd" or croak "/proc/$pid/fd: $!";
    my $n = grep { !/^\.\.?$/ } readdir $dir;
    closedir $dir;
    return $n;
}

# fd_count once it has stopped changing for 300 ms (closed client connections take an event
# loop turn to be closed by nginx); at most 5 s.
sub settled_fd_count {
    my ($pid) = @_;
    my $deadline = Time::HiRes::time() + 5;
    my $last = fd_count($pid);
    my $since = Time::HiRes::time();
    while (Time::HiRes::time() < $deadline) {
        Time::HiRes::sleep(0.05);
        my $now = fd_count($pid);
        if ($now != $last) {
            ($last, $since) = ($now, Time::HiRes::time());
        } elsif (Time::HiRes::time() - $since >= 0.3) {
            last;
        }
    }
    return $last;
}


END {
    if ($$ == $OwnerPid) {
        my $status = $?;
        collect_error_log();
        stop_backend();
        remove_tree($Dir) if $Dir && -d $Dir && !$ENV{WA_PAIR_KEEP_TEST_DIR};
        $? = $status;
    }
}

1;
