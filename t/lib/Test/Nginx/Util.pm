package Test::Nginx::Util;

# Compat runner, part 1 of 2: settings, nginx.conf generation, the nginx
# process and the per-block driver.  See Test/Nginx/Socket.pm for the overview.
# Only loaded when the real Test::Nginx (openresty/test-nginx) is not found
# earlier in @INC; the real one is always preferred.

use strict;
use warnings;

use base 'Exporter';
use File::Spec ();
use File::Path qw(make_path remove_tree);
use IO::Socket::INET ();
use List::Util qw(shuffle);
use POSIX qw(SIGQUIT SIGTERM SIGKILL);
use Scalar::Util qw(looks_like_number);
use Test::More ();
use Test::LongString ();
use Time::HiRes qw(sleep time);

our $VERSION = '0.01-compat';

# ---- settings (environment first, then the setter functions below) ----

our $NginxBinary   = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $LoadModules   = $ENV{TEST_NGINX_LOAD_MODULES};
our $ServerPort    = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
our $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;
our $ServerAddr    = '127.0.0.1';
our $ServerName    = 'localhost';
our $LogLevel      = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $Verbose       = $ENV{TEST_NGINX_VERBOSE};
our $Timeout       = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $TestNginxSleep = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $NoShuffle     = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $DaemonEnabled = 'on';
our $Workers       = 1;
our $WorkerConnections = 64;
our $WorkerUser    = $ENV{TEST_NGINX_WORKER_USER};
our $RepeatEach    = 1;
our $NoLongString;
our $NoRootLocation = 0;
our $CheckAccumErrLog = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $ConfigPreamble = '';
# TEST_NGINX_USE_VALGRIND, the real one's semantics: nginx runs in the foreground (daemon
# off; master as configured, off by default) under valgrind: "1" for memcheck with the real
# one's options (plus ./valgrind.suppress when present), any other value for the valgrind
# options themselves (e.g. "--tool=memcheck --log-file=/tmp/vg.%p"). must_die blocks run
# without it. Starting and stopping wait longer, valgrind being slow.
our $UseValgrind   = $ENV{TEST_NGINX_USE_VALGRIND};
our $ValgrindSlack = 20;
$DaemonEnabled = 'off' if $UseValgrind;
our (@EnvToNginx, @BlockPreprocessors, @CleanupHandlers, @TestCleanupHandlers);

our $ServRoot = File::Spec->rel2abs($ENV{TEST_NGINX_SERVROOT} || 't/servroot');
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;
our $LogDir     = "$ServRoot/logs";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $HtmlDir    = "$ServRoot/html";
our $ConfDir    = "$ServRoot/conf";
our $ConfFile   = "$ConfDir/nginx.conf";
our $PidFile    = "$LogDir/nginx.pid";

# run-time state shared with Socket.pm
our ($RunTestHelper, $CheckErrorLog, $RandPorts, $ErrLogFilePos, $PrevConfig);
our $NginxVersion;
my $StartedByUs;
my $ValgrindPid;    # the foreground nginx under valgrind (our child)

our @EXPORT = qw(
    $ServerPort $ServerPortForClient $ServerAddr $ServerName $NoLongString
    $ServRoot $ConfFile $PidFile $RepeatEach $RunTestHelper $CheckErrorLog
    $NginxVersion
    run_tests run_test bail_out is_str expand_env_in_text parse_time
    parse_headers error_log_data trim verbose sleep_time
    env_to_nginx repeat_each workers worker_connections master_on master_off
    master_process_enabled log_level no_shuffle no_long_string no_root_location
    config_preamble add_block_preprocessor add_cleanup_handler
    add_test_cleanup_handler timeout server_addr server_name server_root
    html_dir server_port server_port_for_client check_accum_error_log
);

# ---- small setters / getters (same names and semantics as the real one) ----

sub _getset { my ($ref, @v) = @_; $$ref = $v[0] if @v; $$ref }
sub repeat_each        { _getset(\$RepeatEach, @_) }
sub workers            { _getset(\$Workers, @_) }
sub worker_connections { _getset(\$WorkerConnections, @_) }
sub log_level          { _getset(\$LogLevel, @_) }
sub timeout            { _getset(\$Timeout, @_) }
sub server_addr        { _getset(\$ServerAddr, @_) }
sub server_name        { _getset(\$ServerName, @_) }
sub server_port        { _getset(\$ServerPort, @_) }
sub server_port_for_client { _getset(\$ServerPortForClient, @_) }
sub master_on          { $MasterProcessEnabled = 'on' }
sub master_off         { $MasterProcessEnabled = 'off' }
sub master_process_enabled {
    $MasterProcessEnabled = $_[0] ? 'on' : 'off' if @_;
    $MasterProcessEnabled;
}
sub no_shuffle         { $NoShuffle = 1 }
sub no_long_string     { $NoLongString = 1 }
sub no_root_location   { $NoRootLocation = 1 }
sub check_accum_error_log { $CheckAccumErrLog = 1 }
sub config_preamble    { $ConfigPreamble = shift }
sub html_dir           { $HtmlDir }
sub server_root        { $ServRoot }
sub verbose            { $Verbose }
sub sleep_time         { $TestNginxSleep }
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }
sub add_cleanup_handler      { unshift @CleanupHandlers, shift }
sub add_test_cleanup_handler { unshift @TestCleanupHandlers, shift }

sub env_to_nginx {
    die "env_to_nginx: no arguments specified\n" unless @_;
    for my $v (@_) {
        die "env_to_nginx: bad argument value: $v\n"
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

sub vwarn { warn "[compat] @_\n" if $Verbose }

# TAP's "Bail out!" is one line: details after the first line go to diag.
sub bail_out {
    my ($first, $rest) = split /\n/, join('', @_), 2;
    Test::More::diag($rest) if defined $rest && $rest =~ /\S/;
    cleanup();
    Test::More::BAIL_OUT($first);
}

sub is_str {
    my ($got, $expected, $desc) = @_;
    return Test::More::like($got, $expected, $desc) if ref $expected eq 'Regexp';
    return Test::More::is($got, $expected, $desc) if $NoLongString;
    return Test::LongString::is_string($got, $expected, $desc);
}

# ---- text helpers ----

# "100ms" -> 0.1, "3s" / "3" -> 3
sub parse_time {
    my $t = shift;
    return $t unless defined $t;
    return $1 / 1000 if $t =~ /^\s*([\d.]+)\s*ms\s*$/;
    $t =~ s/^\s*([\d.]+)\s*s?\s*$/$1/;
    $t;
}

sub trim {
    my $s = shift;
    return undef unless defined $s;
    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\s+/ /g;
    $s;
}

# "Name: value" lines; "!Name" means "must be absent" (value undef)
sub parse_headers {
    my %h;
    for my $line (split /\n/, shift) {
        $line =~ s/^\s+|\s+$//g;
        next if $line eq '';
        if ($line =~ s/^!\s*//) { $h{$line} = undef; next }
        my ($k, $v) = split /\s*:\s*/, $line, 2;
        $h{$k} = $v;
    }
    \%h;
}

sub free_port {
    my ($used) = @_;
    for (1 .. 1000) {
        my $p = 1988 + int rand 63000;
        next if $used->{$p};
        my $s = IO::Socket::INET->new(LocalAddr => $ServerAddr, LocalPort => $p,
                                      Listen => 1, ReuseAddr => 1) or next;
        close $s;
        return $p;
    }
    undef;
}

# $TEST_NGINX_FOO -> $ENV{TEST_NGINX_FOO}; a missing variable aborts the run;
# $TEST_NGINX_RAND_PORT_<N> picks a free port, the same for the whole block.
sub expand_env_in_text {
    my ($text, $name, $rand_ports) = @_;
    return $text unless defined $text;
    $rand_ports ||= {};
    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $var = $1;
        if ($var =~ /^TEST_NGINX_RAND_PORT_\d+$/) {
            $rand_ports->{$var} //= free_port({ $ServerPort => 1,
                                                map { $_ => 1 } values %$rand_ports })
                // bail_out("$name - no free port for $var");
        } else {
            defined $ENV{$var} or bail_out("$name - No environment $var defined.\n");
            $ENV{$var};
        }
    }ge;
    $text;
}

# ---- server root, user files, nginx.conf ----

sub setup_server_root {
    if (-d $ServRoot) {
        # only remove what we create, never the whole TEST_NGINX_SERVROOT
        remove_tree($ConfDir, $LogDir, $HtmlDir, "$ServRoot/cache",
                    glob("$ServRoot/*_temp"), glob("$ServRoot/*_cache"));
    }
    make_path($LogDir, $HtmlDir, $ConfDir);
    -d $ConfDir or bail_out("cannot create $ConfDir: $!");
    write_file("$HtmlDir/index.html",
        '<html><head><title>It works!</title></head><body>It works!</body></html>');
}

sub write_file {
    my ($path, $data) = @_;
    open my $out, '>', $path or bail_out("cannot write $path: $!");
    binmode $out;
    print $out $data;
    close $out;
}

# "--- user_files": ">>> name [touch-date]" followed by the content, or an
# arrayref of [name, content, date]; relative names go under html/.
sub write_user_files {
    my ($block, $rand_ports) = @_;
    my $files = $block->user_files or return;
    my $name = $block->name;
    if (!ref $files) {
        my @list;
        for my $line (split /^/, $files) {
            if ($line =~ /^>>> (\S+)(?:\s+(.+))?/) { push @list, [$1, undef, $2]; next }
            $list[-1][1] .= $line if @list;
        }
        $files = \@list;
    }
    ref $files eq 'ARRAY' or bail_out("$name - user_files must be a string or an ARRAY");
    for my $f (@$files) {
        my ($fname, $body, $date) = @$f;
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        (my $dir = $path) =~ s{/[^/]*$}{};
        make_path($dir) unless -d $dir;
        write_file($path, expand_env_in_text($body // '', $name, $rand_ports));
        if ($date) {
            system("TZ=GMT touch -t '$date' '$path'") == 0
                or bail_out("$name - touch -t $date $path failed");
        }
    }
}

sub write_config_file {
    my ($block, $config, $rand_ports) = @_;
    my $name = $block->name;
    my $http_config = expand_env_in_text($block->http_config // '', $name, $rand_ports);
    my $main_config = $block->main_config // '';
    if ($LoadModules) {
        my @mods = map { "load_module $_;" } grep { length } split /\s+/, $LoadModules;
        $main_config = join ' ', @mods, $main_config;
    }
    $main_config = expand_env_in_text($main_config, $name, $rand_ports);
    my $post_main = expand_env_in_text($block->post_main_config // '', $name, $rand_ports);
    my $err_log = expand_env_in_text($block->error_log_file || $ErrLogFile, $name, $rand_ports);
    (my $srv_name = $block->server_name // $ServerName) =~ s/(['\\])/\\$1/g;

    my $temp = join ' ', map { "${_}_temp_path $ServRoot/${_}_temp;" }
                         grep { $http_config !~ /\b${_}_temp_path\b/ }
                         qw(client_body proxy fastcgi scgi uwsgi);
    my $env = join '', map { my $v = /\s/ ? "'$_'" : $_; "env $v;\n" }
                       qw(LD_PRELOAD LD_LIBRARY_PATH ASAN_OPTIONS), @EnvToNginx;
    my $root_loc = $NoRootLocation ? '' :
        "        location / {\n            root $HtmlDir;\n"
      . "            index index.html index.htm;\n        }\n";
    my $user = defined $WorkerUser ? "user $WorkerUser;\n"
             : $> == 0             ? "user root;\n" : '';

    write_file($ConfFile, <<"CONF");
# generated by the compat Test::Nginx runner (t/lib) for: $name
worker_processes  $Workers;
daemon $DaemonEnabled;
master_process $MasterProcessEnabled;
error_log $err_log $LogLevel;
pid       $PidFile;
$env$user
$main_config

http {
    access_log $AccLogFile;
    $temp

    default_type text/plain;
    keepalive_timeout  68000ms;

$http_config

    server {
        listen          $ServerPort;
        server_name     '$srv_name';
        client_max_body_size 30M;

$ConfigPreamble
        # --- config
$config
        # --- end of config

$root_loc    }
}

$post_main

events {
    accept_mutex off;
    worker_connections  $WorkerConnections;
}
CONF
}

# ---- the nginx process ----

sub nginx_pid {
    open my $in, '<', $PidFile or return undef;
    my $pid = <$in>;
    return undef unless defined $pid && $pid =~ /^(\d+)/;
    $1;
}

# alive and not a zombie (a daemon's zombie may wait long for its reaper)
sub is_running {
    my $pid = shift;
    return 0 unless defined $pid && kill 0, $pid;
    open my $st, '<', "/proc/$pid/stat" or return 1;
    my $line = <$st> // '';
    $line !~ /^\d+ \(.*\) Z/;
}

# QUIT, then TERM, then KILL; nginx is a daemon, so it is not our child.
sub stop_nginx {
    my $pid = nginx_pid();
    if (is_running($pid)) {
        vwarn("stopping nginx $pid");
        for my $sig (SIGQUIT, SIGTERM, SIGKILL) {
            kill $sig, $pid;
            my $deadline = time + ($sig == SIGQUIT ? $Timeout : 1)
                         + ($ValgrindPid ? $ValgrindSlack : 0);
            while (is_running($pid) && time < $deadline) {
                waitpid($pid, POSIX::WNOHANG());
                sleep 0.02;
            }
            last unless is_running($pid);
            warn "nginx $pid did not exit on signal $sig\n";
        }
    }
    unlink $PidFile;
    if ($ValgrindPid) {
        waitpid($ValgrindPid, 0);
        undef $ValgrindPid;
    }
}

# Is something in LISTEN state on $port? Read from /proc so that no probe
# connection ends up in the error log; fall back to "yes" without /proc.
sub port_listening {
    my $port = sprintf ':%04X', shift;
    my $seen_proc;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $in, '<', $f or next;
        $seen_proc = 1;
        while (<$in>) {
            my @c = split;
            return 1 if defined $c[3] && $c[1] =~ /\Q$port\E$/ && $c[3] eq '0A';
        }
    }
    !$seen_proc;
}

sub error_log_tail {
    open my $in, '<', $ErrLogFile or return "(no $ErrLogFile)\n";
    my @lines = <$in>;
    join '', "--- last lines of $ErrLogFile:\n", @lines > 20 ? @lines[-20 .. -1] : @lines;
}

# Runs nginx once; returns the wait status (0 when it daemonized fine)
# ("--- suppress_stderr" also silences its stderr).
sub valgrind_command {
    return ('valgrind', '-q', split ' ', $UseValgrind) unless $UseValgrind =~ /^\d+$/;
    return ('valgrind', '--num-callers=100', '-q', '--tool=memcheck', '--leak-check=full',
            '--keep-debuginfo=yes', '--show-possibly-lost=no', '--gen-suppressions=all',
            -f 'valgrind.suppress' ? '--suppressions=valgrind.suppress' : ());
}

# Under valgrind nginx stays in the foreground: it is forked and left running; returns 0.
sub spawn_nginx_under_valgrind {
    my @cmd = (valgrind_command(), $NginxBinary, '-p', "$ServRoot/", '-c', $ConfFile,
               '-e', $ErrLogFile);
    vwarn("running @cmd");
    my $pid = fork();
    bail_out("fork: $!") unless defined $pid;
    if ($pid == 0) {
        setpgrp;
        open STDOUT, '>', '/dev/null';
        exec @cmd or POSIX::_exit(127);
    }
    $ValgrindPid = $pid;
    0;
}

sub exec_nginx {
    my ($block, $no_valgrind) = @_;
    return spawn_nginx_under_valgrind() if $UseValgrind && !$no_valgrind;
    my @cmd = ($NginxBinary, '-p', "$ServRoot/", '-c', $ConfFile, '-e', $ErrLogFile);
    vwarn("running @cmd");
    my @fhs = (\*STDOUT, defined $block->suppress_stderr ? \*STDERR : ());
    my @saved = map { open(my $dup, '>&', $_) or die "dup: $!"; $dup } @fhs;
    open($_, '>', '/dev/null') or die "/dev/null: $!" for @fhs;
    my $status = system @cmd;
    open($fhs[$_], '>&', $saved[$_]) or die "restore: $!" for 0 .. $#fhs;
    $status;
}

# Start nginx and wait until its pid file exists and the port listens.
# A port still held by the previous nginx is retried; other errors bail out
# at once with the tail of the error log.
sub start_nginx {
    my ($block, $name) = @_;
    my $deadline = time + 5;
    while (1) {
        my $log_size = -s $ErrLogFile || 0;
        my $status = exec_nginx($block);
        if ($status == 0) {
            $StartedByUs = 1;
            my $ready_by = time + $Timeout + ($ValgrindPid ? $ValgrindSlack : 0);
            while (time < $ready_by) {
                return if is_running(nginx_pid()) && port_listening($ServerPort);
                if ($ValgrindPid && waitpid($ValgrindPid, POSIX::WNOHANG()) == $ValgrindPid) {
                    undef $ValgrindPid;
                    bail_out("$name - nginx exited at start under valgrind\n" . error_log_tail());
                }
                sleep 0.01;
            }
            bail_out("$name - nginx started but is not listening on port $ServerPort\n"
                     . error_log_tail());
        }
        my $new_log = '';
        if (open my $in, '<', $ErrLogFile) {
            seek $in, $log_size, 0;
            $new_log = do { local $/; <$in> } // '';
        }
        if ($new_log !~ /Address already in use/ || time >= $deadline) {
            bail_out("$name - cannot start nginx: $NginxBinary -p $ServRoot/ -c $ConfFile"
                     . " (status $status)\n" . error_log_tail());
        }
        sleep 0.2;
    }
}

# "--- must_die": nginx must fail to start; returns after the checks.
sub run_must_die {
    my ($block, $name) = @_;
    $ErrLogFilePos = 0;
    for my $i (0 .. $RepeatEach - 1) {
        my $status = exec_nginx($block, 'no valgrind');
        my $code = $status >> 8;
        if ($status == -1) {
            Test::More::fail("$name - failed to execute the nginx command line");
        } elsif ($status & 128) {
            Test::More::fail("$name - nginx core dumped");
        } elsif (looks_like_number($block->must_die)) {
            Test::More::is($block->must_die, $code, "$name - die with the expected exit code");
        } else {
            Test::More::isnt($status, 0, "$name - die as expected");
        }
        $CheckErrorLog->($block, undef, 0, $i, 0);
        if ($status == 0) {
            warn "WARNING: $name - nginx must die but it does not; killing it\n";
            sleep 0.1;
            stop_nginx();
        }
    }
}

# Lines appended to error.log since the last call for this block.
sub error_log_data {
    sleep $TestNginxSleep * 3;    # let the log phase of the last request run
    open my $in, '<', $ErrLogFile or return undef;
    seek $in, $ErrLogFilePos, 0 if !$CheckAccumErrLog && $ErrLogFilePos;
    my @lines = <$in>;
    $ErrLogFilePos = tell $in unless $CheckAccumErrLog;
    close $in;
    \@lines;
}

# ---- the driver ----

sub run_tests {
    my $nginx = can_run($NginxBinary)
        or bail_out("Cannot find the nginx executable \"$NginxBinary\" (set TEST_NGINX_BINARY)");
    ($NginxVersion) = map { /nginx\/(\d+)\.(\d+)\.(\d+)/ ? sprintf('%d.%03d%03d', $1, $2, $3) : () }
                      scalar `$nginx -v 2>&1`;
    $ENV{TEST_NGINX_SERVER_PORT} = $ServerPort unless defined $ENV{TEST_NGINX_SERVER_PORT};
    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks unless $NoShuffle;
    for my $block (@blocks) {
        $_->($block) for @BlockPreprocessors;
        $block->set_value(name => "$0 " . $block->name);
        run_test($block);
        $_->($block) for @TestCleanupHandlers;
    }
    cleanup();
}

sub can_run {
    my $cmd = shift;
    return -f $cmd && -x _ ? $cmd : undef if $cmd =~ m{/};
    for my $dir (split(/:/, $ENV{PATH} // ''), '.') {
        return "$dir/$cmd" if length $dir && -f "$dir/$cmd" && -x _;
    }
    undef;
}

sub run_test {
    my ($block) = @_;
    return if defined $block->SKIP;
    my $name = $block->name;
    if (defined(my $se = $block->skip_eval)) {    # "N: perl code": skip N tests when true
        $se =~ /^\s*(\d+)\s*:\s*(.*?)\s*$/s or bail_out("$name - skip_eval wants \"N: code\"");
        my ($n, $code) = ($1, $2);
        my $skip = eval $code;
        bail_out("$name - skip_eval failed: $@") if $@;
        if ($skip) {
            SKIP: { Test::More::skip("$name - skip_eval", $n) }
            return;
        }
    }
    my $rand_ports = $RandPorts = {};
    my $config = $block->config;
    local $LogLevel = $block->log_level || $LogLevel;

    if (defined $config) {
        $config = expand_env_in_text($config, $name, $rand_ports);
        $PrevConfig = $config;
        stop_nginx();
        setup_server_root();
        if (my $code = $block->post_setup_server_root) {
            eval $code;
            bail_out("$name - post_setup_server_root failed: $@") if $@;
        }
        write_user_files($block, $rand_ports);
        write_config_file($block, $config, $rand_ports);
        return run_must_die($block, $name) if defined $block->must_die;
        start_nginx($block, $name);
        sleep $TestNginxSleep;
    } elsif (!defined $PrevConfig) {
        bail_out("$name - No '--- config' section specified and could not get previous one.");
    }   # else: like the real one, keep the nginx of the previous block

    if (my $init = $block->init) {
        eval $init;   # in this package, like the real one
        bail_out("$name - init failed: $@") if $@;
    }

    $ErrLogFilePos = 0;
    for my $i (1 .. $RepeatEach) {
        vwarn("running $name (repeat $i)");
        write_user_files($block, $rand_ports) if $i > 1;
        $RunTestHelper->($block, 0, $i - 1);
    }
}

sub cleanup {
    $_->() for @CleanupHandlers;
    @CleanupHandlers = ();
}

END {
    cleanup();
    if ($StartedByUs && !$ENV{TEST_NGINX_NO_CLEAN}) {
        local $?;
        stop_nginx();
    }
}

1;
