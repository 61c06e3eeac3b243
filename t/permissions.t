use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
# The worker runs as nobody here, as nginx started by root does by default: root would bypass the file modes this file is about. Both runners read this
# when they load.
BEGIN { $ENV{TEST_NGINX_WORKER_USER} = 'nobody nogroup' }
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket;
use IO::Socket::UNIX ();

# A backend socket the worker may not use, a wrong permission being the most common setup
# mistake: a socket of mode 0600 owned by root, and a socket in a directory without x for the
# worker's user. Both are a 503 with the errno in the error log, and the next pairing (on the
# dev backend's socket, mode 0666 in a 0755 directory) works.

if ($> != 0) {
    plan skip_all => 'the file modes only matter to a worker that is not root: run as root';
} else {
    plan 'no_plan';
}

my $dir = $WaPairTest::Dir;
our @Keep;   # the listening sockets live as long as this test

my $private = "$dir/private.sock";                        # mode 0600, owned by root
push @Keep, IO::Socket::UNIX->new(Local => $private, Listen => 1) or die "$private: $!";
chmod 0600, $private or die "chmod $private: $!";
$ENV{TEST_NGINX_PRIVATE_SOCK} = $private;

mkdir "$dir/locked" or die "mkdir: $!";                  # mode 0700: no x for nobody
my $locked = "$dir/locked/backend.sock";
push @Keep, IO::Socket::UNIX->new(Local => $locked, Listen => 1) or die "$locked: $!";
chmod 0666, $locked;
chmod 0700, "$dir/locked" or die "chmod: $!";
$ENV{TEST_NGINX_LOCKED_SOCK} = $locked;

our $Denied = '{"status":false,"code":503,"message":"Service unavailable","error":"Pairing backend is unavailable"}';
our $Healthy = '{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"HEA1-THY2","timeout":120}}';
sub main::pair { "POST $_[0]\n{\"phone\":\"6281234567890\"}" }

our $Config = <<'_EOC_';
    wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    location = /private { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_PRIVATE_SOCK; }
    location = /locked  { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_LOCKED_SOCK; }
    location = /healthy { wa_pair; wa_pair_backend http://unix:$TEST_NGINX_BACKEND_SOCK:/v1/pair-code?pair_code=HEA1THY2; }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $Config);
    $block->set_value(more_headers => with_headers($block->more_headers,
                          auth_header(), 'Content-Type: application/json'));
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

master_on();
workers(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a socket of mode 0600 owned by another user is a 503, and the next pairing works
--- request eval
[main::pair("/private"), main::pair("/healthy")]
--- error_code eval
[503, 200]
--- response_body eval
[$main::Denied, $main::Healthy]



=== TEST 2: ... logged by nginx with the errno (at crit, as for proxy_pass), and by the module naming the backend, the phone masked
--- request eval
main::pair("/private")
--- error_code: 503
--- error_log eval
[qr/\[crit\].*connect\(\) to unix:[^ ]+private\.sock failed \(13: Permission denied\)/,
 qr/\[error\].*wa_pair: native pairing backend "unix:[^"]+private\.sock:\/v1\/pair-code" is unavailable: no connection \(phone 62812\*\*\*\*890\)/]



=== TEST 3: a socket in a directory the worker's user cannot enter is a 503, and the next pairing works
--- request eval
[main::pair("/locked"), main::pair("/healthy")]
--- error_code eval
[503, 200]
--- response_body eval
[$main::Denied, $main::Healthy]



=== TEST 4: ... logged with the errno
--- request eval
main::pair("/locked")
--- error_code: 503
--- error_log eval
[qr/\[crit\].*connect\(\) to unix:[^ ]+locked\/backend\.sock failed \(13: Permission denied\)/,
 qr/\[error\].*wa_pair: native pairing backend "unix:[^"]+locked\/backend\.sock:\/v1\/pair-code" is unavailable/]
