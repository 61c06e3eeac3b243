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
# More dev backends (plain TCP or TLS, on free 127.0.0.1 ports) come from start_dev_backend();
# the test PKI they and nginx use (a CA, server and client certificates) from make_test_pki(),
# made with the openssl command line on first use.
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

our @EXPORT_OK = qw(token raw_jwt auth_header with_headers with_patterns alarming raw_post
                    write_jwt_keys write_test_file sha256_hex audit_secret audit_credential
                    reload_nginx
                    secret wrong_secret binary_secret
                    backend_stats backend_reset wait_backend_requests backend_connections
                    start_fakes start_dev_backend make_test_pki
                    hammer nginx_worker_pid fd_count settled_fd_count
                    background_request background_result server_port post_once exchange);
our %EXPORT_TAGS = (all => \@EXPORT_OK);

our $Dir;             # the private temp dir
our $RepoRoot;        # the checkout this file belongs to
our %BackendPids;     # 'unix', 'tcp', 'fake-<engine>', a start_dev_backend name -> pid
our %TlsPorts;        # TCP port of a TLS dev backend (start_dev_backend) -> 1
our $Pki;             # <dir>/pki once make_test_pki() made it
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
    $Secrets{jwk_hmac} = random_hex(32);   # the oct key of the JWK Set (write_jwt_keys)

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
    print $fh "$Secrets{main}\n$Secrets{wrong}\n$Secrets{jwk_hmac}\n"
            . encode_base64url($Secrets{jwk_hmac}) . "\n";
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
    # make valgrind: nginx runs many times slower under valgrind, so a log line that a block
    # reads after a short --- wait (t/abort.t: the proxy's 499 lines) may not be there yet.
    # Waiting longer proves the same thing (a call not cancelled would log 200, later).
    if ($ENV{TEST_NGINX_USE_VALGRIND} && defined &Test::Nginx::Socket::add_block_preprocessor) {
        Test::Nginx::Socket::add_block_preprocessor(sub {
            my $block = shift;
            $block->set_value(wait => 1.5) if defined $block->wait && $block->wait < 1.5;
        });
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
# backend: $socket is a socket path, or a TCP port on 127.0.0.1). A port that
# start_dev_backend() opened for TLS, or tls => 1, speaks TLS (tls_exchange).
sub backend_call {
    my ($method, $path, $socket, %o) = @_;
    $socket = $ENV{TEST_NGINX_BACKEND_SOCK} unless defined $socket;
    my $request = "$method $path HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n"
                . "Connection: close\r\n\r\n";
    my $resp;
    if ($socket =~ /^\d+$/ && ($o{tls} || $TlsPorts{$socket})) {
        $resp = tls_exchange($socket, $request);
    } else {
        my $sock = $socket =~ /^\d+$/
            ? IO::Socket::INET->new(PeerAddr => "127.0.0.1:$socket")
            : IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $socket);
        croak "cannot connect to the backend on $socket: $!" unless $sock;
        print {$sock} $request;
        local $/;
        $resp = <$sock>;
        close $sock;
    }
    croak "no answer from the dev backend" unless defined $resp && length $resp;
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

# Sends $request (complete bytes, "Connection: close") to the TLS dev backend on 127.0.0.1:$port
# with `openssl s_client` and returns what it answers. The client presents the test CA's
# client certificate (a backend that requires one gets it, the others never ask) and no SNI
# (the backend's "sni" counts pairing requests only, but a helper stays out of its way).
# Croaks when the handshake fails or nothing comes back within 10 s.
sub tls_exchange {
    my ($port, $request) = @_;
    make_test_pki();
    my $in = "$Dir/tls-exchange-$$.in";
    my $err = "$Dir/tls-exchange-$$.err";
    write_file($in, $request);
    my @cmd = ('openssl', 's_client', '-quiet', '-noservername', '-connect', "127.0.0.1:$port",
               '-CAfile', "$Pki/ca.pem", '-cert', "$Pki/client.pem", '-key', "$Pki/client.key");
    my $pid = open(my $out, '-|');
    croak "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', $in or POSIX::_exit(126);
        open STDERR, '>', $err or POSIX::_exit(126);
        exec @cmd or POSIX::_exit(127);
    }
    binmode $out;
    my $answer = '';
    my $ok = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 10;
        local $/;
        my $got = <$out>;
        alarm 0;
        $answer = $got if defined $got;
        1;
    };
    alarm 0;
    kill 'KILL', $pid unless $ok;
    close $out;    # waits for s_client
    my $status = $?;
    unlink $in;
    my $stderr = slurp($err);
    unlink $err;
    croak "openssl s_client to 127.0.0.1:$port: no answer within 10 s" unless $ok;
    croak "openssl s_client to 127.0.0.1:$port failed (status $status): $stderr"
        if !length $answer;
    return $answer;
}

# GET /_stats: {"requests":N,...} as a hash reference. (Each takes an optional backend:
# a socket path, or a TCP port for the TCP dev backend: $ENV{TEST_NGINX_BACKEND_PORT}, or
# one of start_dev_backend(); a TLS one is reached over TLS, tls => 1 says so for any port:
# backend_stats($port, tls => 1). A TLS backend's stats have "sni": {name or "-" => N}.)
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
#   wait_backend_requests($n, $timeout, $port)   ... of another backend (a port or a socket)
sub wait_backend_requests {
    my ($n, $timeout, @backend) = @_;
    $timeout = 5 unless defined $timeout;
    my $deadline = Time::HiRes::time() + $timeout;
    while (Time::HiRes::time() < $deadline) {
        my $stats = backend_stats(@backend);
        return $stats if ($stats->{requests} || 0) >= $n;
        Time::HiRes::sleep(0.01);
    }
    croak "the dev backend did not receive $n request(s) within ${timeout}s";
}

# ---------------------------------------------------------------- more dev backends, TLS

# Starts one more tools/dev_backend.py on a free TCP port of 127.0.0.1 and returns the port
# once the backend answers GET /_stats (over TLS for a TLS one: its handshake works). It stops
# with the others at exit. Its log is <dir>/<name>.log. Options:
#   name => 'engine-a'         (default "backend-<port>"; must be unique)
#   tls => 1                   HTTPS with the test PKI's server certificate (server.pem:
#                              DNS:localhost, DNS:engine.test, IP:127.0.0.1)
#   cert => 'other-name'       ...with this certificate of the PKI instead (implies tls)
#   client_ca => 1             require a client certificate signed by the test CA (mTLS)
#   tls_max => '1.2'           offer TLS 1.2 at most
#   args => ['--delay', '1']   more dev_backend flags
# e.g. $ENV{TEST_NGINX_ENGINE_A_PORT} = start_dev_backend(name => 'engine-a');
#      $ENV{TEST_NGINX_TLS_PORT}      = start_dev_backend(name => 'tls', tls => 1);
sub start_dev_backend {
    my (%o) = @_;
    my $script = "$RepoRoot/tools/dev_backend.py";
    my $python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
    my $tls = $o{tls} || $o{cert} || $o{client_ca} || $o{tls_max};
    my $port = free_tcp_port();
    my $name = defined $o{name} ? $o{name} : "backend-$port";
    croak "start_dev_backend: bad name $name" unless $name =~ /^[\w.-]+$/;
    croak "start_dev_backend: a backend named $name runs already" if $BackendPids{$name};
    my @args = ('--listen', "127.0.0.1:$port");
    if ($tls) {
        make_test_pki();
        my $cert = $o{cert} || 'server';
        croak "start_dev_backend: no certificate $cert in the test PKI" unless -f "$Pki/$cert.pem";
        push @args, '--tls-cert', "$Pki/$cert.pem", '--tls-key', "$Pki/$cert.key";
        push @args, '--tls-client-ca', "$Pki/ca.pem" if $o{client_ca};
        push @args, '--tls-max-version', $o{tls_max} if $o{tls_max};
        $TlsPorts{$port} = 1;
    }
    push @args, @{ $o{args} || [] };
    my $log = "$Dir/$name.log";
    my $pid = $BackendPids{$name} = spawn_backend($log, $python, $script, @args);

    my $deadline = Time::HiRes::time() + 15;
    while (1) {
        if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
            delete $BackendPids{$name};
            croak "WaPairTest: the dev backend $name exited at start:\n" . slurp($log);
        }
        # a plain one: a TCP connect first (no process per try before it listens)
        my $listening = $tls || IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
        return $port if $listening && eval { backend_stats($port); 1 };
        croak "WaPairTest: the dev backend $name did not come up:\n" . slurp($log)
            if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.05);
    }
}

# The test PKI, made once per test process in <dir>/pki with the openssl command line
# (P-256 keys, valid for 2 days, every file 0644: nginx workers may run as nobody):
#   ca.pem ca.key                the test CA (CA:TRUE)
#   server.pem server.key        signed by it: DNS:localhost, DNS:engine.test, IP:127.0.0.1
#                                (serverAuth)
#   other-name.pem .key          signed by it: DNS:other.test only
#   wrong-ca.pem wrong-ca.key    an unrelated CA
#   client.pem client.key        signed by the test CA (clientAuth)
#   wrong-client.pem .key        signed by the wrong CA
# and exports TEST_NGINX_TLS_DIR, TEST_NGINX_TLS_CA, TEST_NGINX_TLS_WRONG_CA,
# TEST_NGINX_TLS_CLIENT_CERT, TEST_NGINX_TLS_CLIENT_KEY, TEST_NGINX_TLS_WRONG_CLIENT_CERT,
# TEST_NGINX_TLS_WRONG_CLIENT_KEY, TEST_NGINX_TLS_SERVER_CERT, TEST_NGINX_TLS_SERVER_KEY.
# Returns the directory.
sub make_test_pki {
    return $Pki if $Pki;
    my $dir = "$Dir/pki";
    mkdir $dir or croak "mkdir $dir: $!" unless -d $dir;
    chmod 0755, $dir;
    # our own configuration: nothing comes from the system's openssl.cnf
    write_file("$dir/openssl.cnf", <<'_CNF_');
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, DNS:engine.test, IP:127.0.0.1
[other_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:other.test
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
_CNF_
    my @key = ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes');
    my $openssl = sub {
        my $pid = fork();
        croak "fork: $!" unless defined $pid;
        if ($pid == 0) {
            open STDOUT, '>', "$dir/openssl.out" or POSIX::_exit(126);
            open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
            exec 'openssl', @_ or POSIX::_exit(127);
        }
        waitpid($pid, 0);
        croak "make_test_pki: openssl @_ failed ($?):\n" . slurp("$dir/openssl.out") if $?;
        unlink "$dir/openssl.out";
    };
    my $ca = sub {
        my ($name, $cn) = @_;
        $openssl->('req', '-config', "$dir/openssl.cnf", '-x509', @key, '-days', 2,
                   '-subj', "/CN=$cn", '-extensions', 'ca_ext', '-sha256',
                   '-keyout', "$dir/$name.key", '-out', "$dir/$name.pem");
    };
    my $leaf = sub {
        my ($name, $cn, $issuer, $ext) = @_;
        $openssl->('req', '-config', "$dir/openssl.cnf", '-new', @key, '-subj', "/CN=$cn",
                   '-keyout', "$dir/$name.key", '-out', "$dir/$name.csr");
        $openssl->('x509', '-req', '-in', "$dir/$name.csr", '-CA', "$dir/$issuer.pem",
                   '-CAkey', "$dir/$issuer.key", '-set_serial', '0x' . random_hex(8),
                   '-days', 2, '-sha256', '-extfile', "$dir/openssl.cnf", '-extensions', $ext,
                   '-out', "$dir/$name.pem");
        unlink "$dir/$name.csr";
    };
    $ca->('ca', 'wa_pair test CA');
    $ca->('wrong-ca', 'wa_pair wrong test CA');
    $leaf->('server', 'localhost', 'ca', 'server_ext');
    $leaf->('other-name', 'other.test', 'ca', 'other_ext');
    $leaf->('client', 'wa_pair test client', 'ca', 'client_ext');
    $leaf->('wrong-client', 'wa_pair wrong test client', 'wrong-ca', 'client_ext');
    chmod 0644, glob("$dir/*");

    $ENV{TEST_NGINX_TLS_DIR}               = $dir;
    $ENV{TEST_NGINX_TLS_CA}                = "$dir/ca.pem";
    $ENV{TEST_NGINX_TLS_WRONG_CA}          = "$dir/wrong-ca.pem";
    $ENV{TEST_NGINX_TLS_SERVER_CERT}       = "$dir/server.pem";
    $ENV{TEST_NGINX_TLS_SERVER_KEY}        = "$dir/server.key";
    $ENV{TEST_NGINX_TLS_CLIENT_CERT}       = "$dir/client.pem";
    $ENV{TEST_NGINX_TLS_CLIENT_KEY}        = "$dir/client.key";
    $ENV{TEST_NGINX_TLS_WRONG_CLIENT_CERT} = "$dir/wrong-client.pem";
    $ENV{TEST_NGINX_TLS_WRONG_CLIENT_KEY}  = "$dir/wrong-client.key";
    return $Pki = $dir;
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
#   token(key => 'wrong' | 'binary' | 'jwk_hmac')   sign with another of the written secrets
#   token(secret => $raw_bytes)              sign with any key
#   token(alg => 'RS256')                    signed with the test key pair for the algorithm
#                                            (RS*, PS*: RSA; ES256/384/512: P-256/384/521;
#                                            EdDSA: Ed25519), whose public halves
#                                            write_jwt_keys() writes
#   token(alg => 'ES256', key => 'other')    signed with another key pair of the same type
#   token(kid => 'rsa-1')                    a kid header (headers => {...} for any header;
#                                            a header given as undef is left out)
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
    my $key;
    if (defined $o{secret}) {
        $key = $o{secret};
    } elsif ($alg =~ /^HS/) {
        $key = $Secrets{ $o{key} || 'main' };
        croak "unknown key $o{key}" unless defined $key;
    } else {
        my $name = alg_key_name($alg);
        $name .= '_other' if ($o{key} || '') eq 'other';
        $key = key_pair($name);
    }
    my %headers = (typ => 'JWT', %{ $o{headers} || {} });
    $headers{kid} = $o{kid} if defined $o{kid};
    delete @headers{ grep { !defined $headers{$_} } keys %headers };
    return Crypt::JWT::encode_jwt(
        payload       => JSON::PP->new->utf8->canonical->encode(\%payload),
        alg           => $alg,
        key           => $key,
        extra_headers => \%headers,
    );
}

# ---------------------------------------------------------------- key pairs and key files

# The key pair an algorithm's tokens are signed with.
sub alg_key_name {
    my ($alg) = @_;
    return 'rsa' if $alg =~ /^(?:RS|PS)(?:256|384|512)$/;
    my %ec = (ES256 => 'ec256', ES384 => 'ec384', ES512 => 'ec521', EdDSA => 'ed25519');
    return $ec{$alg} || croak "no key pair for $alg";
}

# Key pairs (Crypt::PK objects with the private key), made once per test process:
# rsa, ec256, ec384, ec521, ed25519, and an "_other" of each.
my %KeyPairs;
sub key_pair {
    my ($name) = @_;
    return $KeyPairs{$name} if $KeyPairs{$name};
    my ($type) = $name =~ /^(rsa|ec256|ec384|ec521|ed25519)(?:_other)?$/ or croak "no key pair $name";
    my $key;
    if ($type eq 'rsa') {
        require Crypt::PK::RSA;
        $key = Crypt::PK::RSA->new->generate_key(256);          # 2048 bits
    } elsif ($type eq 'ed25519') {
        require Crypt::PK::Ed25519;
        $key = Crypt::PK::Ed25519->new->generate_key;
    } else {
        require Crypt::PK::ECC;
        my %curve = (ec256 => 'secp256r1', ec384 => 'secp384r1', ec521 => 'secp521r1');
        $key = Crypt::PK::ECC->new->generate_key($curve{$type});
    }
    return $KeyPairs{$name} = $key;
}

# The kids of the keys in the JWK Set that write_jwt_keys() writes.
our %Kid = (rsa => 'rsa-1', ec256 => 'ec-256', ec384 => 'ec-384', ec521 => 'ec-521',
            ed25519 => 'ed-1', jwk_hmac => 'hmac-1');

# Writes the public halves of the key pairs, as Crypt::PK exports them, for
# wa_pair_jwt_key_file, and exports their paths (expanded in --- config):
#   TEST_NGINX_JWT_RSA_PEM         SubjectPublicKeyInfo ("PUBLIC KEY")
#   TEST_NGINX_JWT_RSA_PKCS1_PEM   PKCS#1 ("RSA PUBLIC KEY" RSAPublicKey)
#   TEST_NGINX_JWT_RSA_CRYPTX_PEM  what CryptX writes as "RSA PUBLIC KEY" (an SPKI)
#   TEST_NGINX_JWT_EC256_PEM, _EC384_PEM, _EC521_PEM, _ED25519_PEM
#   TEST_NGINX_JWT_RSA_OTHER_PEM   the other RSA key pair's
#   TEST_NGINX_JWKS                {"keys":[...]}: every key pair with its kid (%Kid), and
#                                  an oct key "hmac-1" (token(key => 'jwk_hmac'))
#   TEST_NGINX_JWT_RSA_PRIVATE_PEM a private key (refused by nginx -t)
# Call it at the top of a .t file that configures them (RSA key generation takes a moment).
sub write_jwt_keys {
    return if $ENV{TEST_NGINX_JWKS};
    my $pem = sub {
        my ($name, $format) = @_;
        my $key = key_pair($name);
        my $f = $format || ($name =~ /^ec/ ? 'public_short' : $name =~ /^rsa/ ? 'public_x509' : 'public');
        return $key->export_key_pem($f);
    };
    write_file("$Dir/jwt-rsa.pem",         $pem->('rsa'));
    write_file("$Dir/jwt-rsa-pkcs1.pem",   pkcs1_pem(key_pair('rsa')));
    write_file("$Dir/jwt-rsa-cryptx.pem",  $pem->('rsa', 'public'));   # SPKI labelled PKCS#1
    write_file("$Dir/jwt-rsa-other.pem",   $pem->('rsa_other'));
    write_file("$Dir/jwt-ec256.pem",       $pem->('ec256'));
    write_file("$Dir/jwt-ec384.pem",       $pem->('ec384'));
    write_file("$Dir/jwt-ec521.pem",       $pem->('ec521'));
    write_file("$Dir/jwt-ed25519.pem",     $pem->('ed25519'));
    write_file("$Dir/jwt-rsa-private.pem", key_pair('rsa')->export_key_pem('private'));
    my @jwks;
    for my $name (qw(rsa ec256 ec384 ec521 ed25519)) {
        my $jwk = key_pair($name)->export_key_jwk('public', 1);
        push @jwks, { %$jwk, kid => $Kid{$name}, use => 'sig' };
    }
    push @jwks, { kty => 'oct', kid => $Kid{jwk_hmac}, k => encode_base64url($Secrets{jwk_hmac}) };
    write_file("$Dir/jwks.json", JSON::PP->new->canonical->pretty->encode({ keys => \@jwks }));
    $ENV{TEST_NGINX_JWT_RSA_PEM}         = "$Dir/jwt-rsa.pem";
    $ENV{TEST_NGINX_JWT_RSA_PKCS1_PEM}   = "$Dir/jwt-rsa-pkcs1.pem";
    $ENV{TEST_NGINX_JWT_RSA_CRYPTX_PEM}  = "$Dir/jwt-rsa-cryptx.pem";
    $ENV{TEST_NGINX_JWT_RSA_OTHER_PEM}   = "$Dir/jwt-rsa-other.pem";
    $ENV{TEST_NGINX_JWT_EC256_PEM}       = "$Dir/jwt-ec256.pem";
    $ENV{TEST_NGINX_JWT_EC384_PEM}       = "$Dir/jwt-ec384.pem";
    $ENV{TEST_NGINX_JWT_EC521_PEM}       = "$Dir/jwt-ec521.pem";
    $ENV{TEST_NGINX_JWT_ED25519_PEM}     = "$Dir/jwt-ed25519.pem";
    $ENV{TEST_NGINX_JWT_RSA_PRIVATE_PEM} = "$Dir/jwt-rsa-private.pem";
    $ENV{TEST_NGINX_JWKS}                = "$Dir/jwks.json";
}

# A true PKCS#1 RSAPublicKey PEM (SEQUENCE { n, e }), DER-encoded here: CryptX writes an
# SPKI under that label.
sub pkcs1_pem {
    my ($key) = @_;
    my $h = $key->key2hash;
    my $der_len = sub {
        my $n = shift;
        return chr($n) if $n < 0x80;
        my $b = ''; while ($n) { $b = chr($n & 0xff) . $b; $n >>= 8 }
        return chr(0x80 | length $b) . $b;
    };
    my $int = sub {
        my $bytes = pack 'H*', (length($_[0]) % 2 ? '0' : '') . $_[0];
        $bytes =~ s/^\x00+(?=.)//s;
        $bytes = "\x00$bytes" if ord($bytes) & 0x80;
        return "\x02" . $der_len->(length $bytes) . $bytes;
    };
    my $body = $int->($h->{N}) . $int->($h->{e});
    my $der = "\x30" . $der_len->(length $body) . $body;
    return "-----BEGIN RSA PUBLIC KEY-----\n" . MIME::Base64::encode_base64($der)
         . "-----END RSA PUBLIC KEY-----\n";
}

# The public key of a key pair as a PEM text (for files a test writes itself).
sub public_pem {
    my ($name) = @_;
    my $key = key_pair($name);
    return $key->export_key_pem($name =~ /^ec/ ? 'public_short' : $name =~ /^rsa/ ? 'public_x509' : 'public');
}

# Writes a file into the test's private dir ($TEST_NGINX_WA_DIR in --- config) and returns
# its path: key files, API key files, revocation lists of a test.
sub write_test_file {
    my ($name, $content) = @_;
    croak "bad file name $name" unless $name =~ /^[\w.-]+$/;
    write_file("$Dir/$name.tmp", $content);
    rename "$Dir/$name.tmp", "$Dir/$name" or croak "rename $name: $!";  # whole, for a reload
    return "$Dir/$name";
}

# SHA-256 in hex, as wa_pair_api_keys_file holds keys.
sub sha256_hex {
    require Digest::SHA;
    return Digest::SHA::sha256_hex($_[0]);
}

# For the suite-wide audit of `make test` (tools/test.sh):
#   audit_secret($v)      $v never appears in an error log (a key file's secret);
#   audit_credential($v)  $v never appears in a line of the module ("wa_pair"): a credential
#                         a client sends, which nginx itself logs with the request headers at
#                         debug level.
sub audit_secret     { append_line($ENV{WA_PAIR_AUDIT_SECRETS}, @_) }
sub audit_credential { append_line($ENV{WA_PAIR_AUDIT_CREDENTIALS}, @_) }

sub append_line {
    my ($file, $value) = @_;
    return unless $file;
    open my $fh, '>>', $file or die "$file: $!";
    print $fh "$value\n";
    close $fh;
}

# ---------------------------------------------------------------- reloads

# The pid of the nginx master (the runners' pid file) and its children.
sub nginx_master_pid {
    no warnings 'once';
    my $file = $Test::Nginx::Util::PidFile or croak "no pid file known";
    my $pid = slurp($file);
    croak "no nginx pid in $file" unless $pid =~ /^(\d+)/;
    return $1;
}

sub child_pids {
    my ($parent) = @_;
    my @pids;
    opendir my $dh, '/proc' or croak "/proc: $!";
    for my $pid (grep { /^\d+$/ } readdir $dh) {
        my $stat = slurp("/proc/$pid/stat");
        # pid (comm) state ppid ...; comm may hold spaces and parentheses
        next unless $stat =~ /\)\s+(\S)\s+(\d+)/;
        push @pids, $pid + 0 if $2 == $parent && $1 ne 'Z';
    }
    closedir $dh;
    return sort { $a <=> $b } @pids;
}

# `nginx -s reload`: sends HUP to the master (the suite runs master_on) and returns once the
# workers it had have all exited and new ones run, that is once every request is served
# with the configuration (and the files) read again. Old workers finish their requests
# first: an in-flight request delays the return, it is not dropped.
#   reload_nginx(fails => qr/.../)   the new configuration is refused: returns once the error
#                                    log has a matching line, the old workers still serving
sub reload_nginx {
    my (%o) = @_;
    my $master = nginx_master_pid();
    my @old = child_pids($master);
    croak "reload_nginx: nginx runs without worker processes (master_on?)" unless @old;
    no warnings 'once';
    my $log = $Test::Nginx::Util::ErrLogFile;
    my $log_size = -s $log || 0;
    kill 'HUP', $master or croak "kill HUP $master: $!";
    my $deadline = Time::HiRes::time() + ($o{timeout} || 10);
    while (Time::HiRes::time() < $deadline) {
        if ($o{fails}) {
            open my $fh, '<:raw', $log or croak "$log: $!";
            seek $fh, $log_size, 0;
            local $/;
            my $new = <$fh>;
            close $fh;
            if (defined $new && $new =~ $o{fails}) {
                my %alive = map { $_ => 1 } child_pids($master);
                croak "reload_nginx: the old workers are gone after a refused reload"
                    if grep { !$alive{$_} } @old;
                return 1;
            }
        } else {
            my %old = map { $_ => 1 } @old;
            my @now = child_pids($master);
            return 1 if @now && !grep { $old{$_} } @now;
        }
        Time::HiRes::sleep(0.02);
    }
    croak "reload_nginx: no " . ($o{fails} ? 'matching error log line' : 'new workers')
        . " within the timeout";
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

# What no block's error log may hold, whatever it proves: an [alert], or a [crit] other than
# the one nginx itself logs for a unix: socket that is missing or may not be used (its
# connect() failing with ENOENT or EACCES is [crit] in nginx, for proxy_pass too).
sub alarming {
    return ('[alert]',
            qr/\[crit\](?!.* connect\(\) to unix:\S+ failed \((?:2: No such file or directory|13: Permission denied)\) while connecting to upstream)/);
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

# Sends $request (complete bytes) to nginx on a connection of its own and returns everything
# nginx answers until it closes (croaks when it cannot connect or has no answer in 20 s).
sub exchange {
    my ($request) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => server_port(),
                                     Proto => 'tcp', Timeout => 10)
        or croak "cannot connect to nginx: $!";
    print {$sock} $request;
    local $/;
    local $SIG{ALRM} = sub { croak "no answer from nginx within 20 s" };
    alarm 20;
    my $answer = <$sock>;
    alarm 0;
    close $sock;
    return defined $answer ? $answer : '';
}

# Sends one login-code POST to $path on its own connection (Connection: close) and returns
# the whole answer; @headers are extra header lines ("Authorization: Bearer ...").
sub post_once {
    my ($path, @headers) = @_;
    return exchange(raw_post($path, headers => [@headers, 'Content-Type: application/json'],
                             body => '{"phone":"6281234567890"}'));
}

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
    my $pid = fork();
    croak "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my $answer = '';
        eval { $answer = exchange($request); 1 } or $answer = "CLIENT ERROR: $@";
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

# Runs `clients` forked clients at once and adds up what they counted. In child $c (0 ..
# clients - 1), $client->($c, \%counts) counts each answer it gets ($counts{$status}++, or
# 'no answer'); a client that dies adds 'client error: <message>' => 1 to what it had counted.
# Returns { what => n } summed over the clients. The children never run END blocks (they leave
# the backend alone); their tallies go through <dir>/<name>-<c>.out.
#   tally_clients('spray', 4, sub { my ($c, $counts) = @_; ... })
sub tally_clients {
    my ($name, $clients, $client) = @_;
    croak "bad name" unless $name =~ /^[\w.-]+$/;
    my (@pids, @files);
    for my $c (0 .. $clients - 1) {
        my $file = "$Dir/$name-$c.out";
        unlink $file;
        my $pid = fork();
        croak "fork: $!" unless defined $pid;
        if ($pid == 0) {
            my %counts;
            eval { $client->($c, \%counts); 1 } or $counts{ 'client error: ' . ($@ =~ s/\s+/ /gr) }++;
            write_file($file, join '', map { "$_\t$counts{$_}\n" } sort keys %counts);
            POSIX::_exit(0);
        }
        push @pids, $pid;
        push @files, $file;
    }
    waitpid($_, 0) for @pids;
    my %result;
    for my $file (@files) {
        croak "a client of $name left no tally" unless -e $file;
        for my $line (split /\n/, slurp($file)) {
            my ($what, $n) = split /\t/, $line;
            $result{$what} += $n;
        }
    }
    return \%result;
}

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
        $result{$path} = tally_clients('hammer', $clients, sub {
            my ($c, $counts) = @_;
            my $n = int($o{count} / $clients) + ($c < $o{count} % $clients ? 1 : 0);
            hammer_client($path, $n, $authorization, $counts);
        });
    }
    return \%result;
}

sub hammer_client {
    my ($path, $n, $authorization, $counts) = @_;
    my $body = '{"phone":"6281234567890"}';
    my $request = "POST $path HTTP/1.1\r\nHost: localhost\r\nAuthorization: $authorization\r\n"
        . "Content-Type: application/json\r\nContent-Length: " . length($body) . "\r\n\r\n$body";
    my $sock;
    local $SIG{ALRM} = sub { die "no answer within 30 s\n" };
    for (1 .. $n) {
        $sock ||= IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => server_port(),
                                        Proto => 'tcp', Timeout => 10)
            or die "connect: $!\n";
        alarm 30;
        my ($status, $keepalive) = (print {$sock} $request) ? read_answer($sock) : ();
        alarm 0;
        $counts->{ defined $status ? $status : 'no answer' }++;
        undef $sock unless $status && $keepalive;
    }
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
