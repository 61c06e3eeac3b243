use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest qw(auth_header); # the secret, tokens, the dev backend's counters, the audit
use WaPairCluster ();          # the topology: 2 edges, 3 owners, an engine per owner
use Test::More;

# Past one host (docs/scale-out.md): stateless edges authenticate each request and
# route it, by the placement map, to the owner host that holds the device's WhatsApp session;
# the owner keeps the device's edge policy (wa_pair_zone) and verifies the token again. The
# configuration is `make cluster`'s (conf/cluster-edge.conf, conf/cluster-owner.conf: per
# device and per number, 3 calls an hour). Each nginx runs on its own port and prefix; the
# engines are tools/dev_backend.py, whose counters prove how many calls reached each one.
#
# owner-1's engine answers in 0.5 s, so that a request can arrive while a call is in flight.
# Each device has its own number: the per-number limit counts every device's calls.

my %Placement = (
    'dev-double' => 'owner-1', 'dev-edge-lost' => 'owner-1', 'dev-move' => 'owner-1',
    'dev-limit'  => 'owner-2', 'dev-refresh'   => 'owner-2', 'dev-other' => 'owner-2',
    'dev-lost'   => 'owner-3', 'dev-restart'   => 'owner-3',
);
my %Phone;
@Phone{ sort keys %Placement, 'dev-nowhere' } = map { 6281100000000 + $_ } 1 .. 9;

my $Code = qr/^\{"status":true,"code":200,"message":"Pairing code generated successfully","data":\{"pair_code":"([1-9A-HJ-NP-TV-Z]{4}-[1-9A-HJ-NP-TV-Z]{4})","timeout":\d+\}\}\z/;
my $Unavailable = '{"status":false,"code":503,"message":"Service unavailable","error":"Pairing backend is unavailable"}';
my $TooMany = '{"status":false,"code":429,"message":"Too many requests","error":"Too many pairing requests"}';
my $Invalid = '{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"}';
my $Missing = '{"status":false,"code":401,"message":"Unauthorized","error":"Invalid or missing authentication"}';

WaPairCluster::start(placement => \%Placement, engine_args => { 'owner-1' => ['--delay', '0.5'] });

sub pair {   # pair(node, device, more options): the device's number unless one is given
    my ($node, $device, %o) = @_;
    return WaPairCluster::post($node, device => $device, phone => $Phone{$device}, %o);
}
sub code_of { my ($r) = @_; return ($r->{status} == 200 && $r->{body} =~ $Code) ? $1 : "(no code: $r->{status} $r->{body})" }

# The calls each engine received, checked against the scenario's count after every step.
my %Calls = map { $_ => 0 } WaPairCluster::owners();
sub engines_saw {
    my ($delta, $what) = @_;
    $Calls{$_} += $delta->{$_} for keys %$delta;
    is_deeply(WaPairCluster::engine_calls(), {%Calls}, "engine calls: $what");
}
sub misses { my @m = WaPairCluster::log_of($_[0], 'access.log') =~ /device=\Q$_[1]\E cache=miss /g; scalar @m }

note 'the same device through both edges at once: one engine call, coalesced at its owner';
{
    my ($a, $b) = WaPairCluster::post_together(
        ['edge-a', device => 'dev-double', phone => $Phone{'dev-double'}],
        ['edge-b', device => 'dev-double', phone => $Phone{'dev-double'}]);
    like($a->{body}, $Code, 'edge A: a code');
    is(code_of($b), code_of($a), 'edge B: the same code');
    engines_saw({ 'owner-1' => 1 }, 'a double-click across the edges is one call');
    my $log = WaPairCluster::log_of('owner-1', 'access.log');
    is(misses('owner-1', 'dev-double'), 1, "owner-1 called once for it ...");
    like($log, qr/device=dev-double cache=coalesced /, '... and the other request waited for that call');
    is(code_of(pair('edge-b', 'dev-double')), code_of($a), 'a later request through edge B: the live code again');
    is(code_of(pair('edge-a', 'dev-double')), code_of($a), '... and through edge A');
    engines_saw({}, 'reused codes ask the engine for nothing');
}

note 'the per-device limit (3 an hour) holds whichever edge is used';
{
    my @codes = map { code_of($_) } pair('edge-a', 'dev-limit'), pair('edge-b', 'dev-limit', refresh => 1),
                                    pair('edge-a', 'dev-limit', refresh => 1);
    my %distinct = map { $_ => 1 } grep { /^\w{4}-\w{4}$/ } @codes;
    is(scalar keys %distinct, 3, 'three calls through A, B, A: three codes');
    for my $edge ('edge-b', 'edge-a') {
        my $r = pair($edge, 'dev-limit', refresh => 1);
        is($r->{status}, 429, "a fourth through $edge: 429 from the owner ...");
        is($r->{body}, $TooMany, '... its envelope, unchanged by the edge');
        like($r->{headers}{'retry-after'} // '', qr/^[1-9]\d*$/, '... with its Retry-After');
    }
    engines_saw({ 'owner-2' => 3 }, 'the limit let 3 calls through, not 3 per edge');
}

note 'a refresh through edge B, then a request through edge A: B\'s code';
{
    my $first = code_of(pair('edge-a', 'dev-refresh'));
    my $refreshed = code_of(pair('edge-b', 'dev-refresh', refresh => 1));
    like($refreshed, qr/^\w{4}-\w{4}$/, 'edge B: a new code');
    isnt($refreshed, $first, '... not the one edge A had');
    is(code_of(pair('edge-a', 'dev-refresh')), $refreshed, 'edge A then answers B\'s code, the live one');
    engines_saw({ 'owner-2' => 2 }, 'two calls: the first code and the refresh');
}

note 'a token with a bad signature: refused at the edge, and at the owner when sent there directly';
{
    my $forged = auth_header(device_id => 'dev-double', key => 'wrong');
    for my $node ('edge-a', 'owner-1') {
        my $r = WaPairCluster::post($node, auth => $forged, phone => $Phone{'dev-double'});
        is($r->{status}, 401, "$node: 401");
        is($r->{body}, $Invalid, "$node: the contract's envelope");
        is($r->{headers}{'www-authenticate'} // '', 'Bearer error="invalid_token"', "$node: WWW-Authenticate");
    }
    my ($refused) = WaPairCluster::log_of('edge-a', 'access.log') =~ /([^\n]*)\n\z/;
    like($refused, qr/" 401 device=- owner= upstream=- /, 'edge A refused it itself: no owner was asked');
    my $r = WaPairCluster::post('owner-2', auth => undef, phone => $Phone{'dev-limit'});
    is("$r->{status} $r->{body}", "401 $Missing", 'owner-2, no token at all: 401');
    is(code_of(WaPairCluster::post('owner-1', device => 'dev-double', phone => $Phone{'dev-double'})),
       code_of(pair('edge-a', 'dev-double')), 'a good token sent to owner-1 directly works: the refusals were verdicts');
    engines_saw({}, 'refused tokens reach no engine');
}

note 'a device the placement map does not know: 503 from the edge';
{
    for my $edge ('edge-a', 'edge-b') {
        my $r = pair($edge, 'dev-nowhere');
        is("$r->{status} $r->{body}", "503 $Unavailable", "$edge: the 503 envelope");
        like(WaPairCluster::log_of($edge, 'error.log'), qr/\[warn\].*wa_pair: device "dev-nowhere" has no owner/,
             "$edge: logged at warn, with the device");
    }
    engines_saw({}, 'an unplaced device reaches no engine');
}

note 'an owner host lost: only its devices fail (503 from the edges); restarted, at most one extra code';
{
    my $before = code_of(pair('edge-a', 'dev-restart'));
    engines_saw({ 'owner-3' => 1 }, 'a code for a device of owner-3');
    WaPairCluster::stop_node('owner-3');
    for my $edge ('edge-a', 'edge-b') {
        my $r = pair($edge, 'dev-lost');
        is("$r->{status} $r->{body}", "503 $Unavailable", "$edge: owner-3's device gets the 503 envelope");
        is($r->{headers}{'content-type'}, 'application/json', "$edge: as JSON, not nginx's page");
    }
    my $other = pair('edge-a', 'dev-other');
    like($other->{body}, $Code, "edge A: owner-2's device still gets its code");
    is(code_of(pair('edge-b', 'dev-other')), code_of($other), '... and through edge B');
    is(code_of(WaPairCluster::post('edge-b', device => 'dev-double', phone => $Phone{'dev-double'})),
       code_of(WaPairCluster::post('owner-1', device => 'dev-double', phone => $Phone{'dev-double'})),
       "owner-1's device too");
    engines_saw({ 'owner-2' => 1 }, 'the failures asked no engine; the other owners served');

    WaPairCluster::start_node('owner-3');    # a new nginx: its zone starts empty
    my $after = code_of(pair('edge-b', 'dev-restart'));
    like($after, qr/^\w{4}-\w{4}$/, 'owner-3 restarted: a code for its device ...');
    isnt($after, $before, '... a new one: the restart forgot the live code (the one extra code)');
    is(code_of(pair('edge-a', 'dev-restart')), $after, 'the next request reuses it: no second extra code');
    like(pair('edge-a', 'dev-lost')->{body}, $Code, "the device that failed gets its code now");
    engines_saw({ 'owner-3' => 2 }, 'one extra call for the device that had a code, one for the one that failed');
}

note 'moving a device: change the map, reload the edges; its next call goes to the new owner';
{
    my $old = code_of(pair('edge-a', 'dev-move'));
    engines_saw({ 'owner-1' => 1 }, 'dev-move paired at owner-1');
    WaPairCluster::set_placement(%Placement, 'dev-move' => 'owner-2');
    WaPairCluster::reload_node($_) for 'edge-a', 'edge-b';
    my $new = code_of(pair('edge-b', 'dev-move'));
    like($new, qr/^\w{4}-\w{4}$/, 'after the move: a code');
    isnt($new, $old, '... from the new owner, which holds no code of the old one');
    is(code_of(pair('edge-a', 'dev-move')), $new, 'through the other edge: the new owner\'s live code');
    engines_saw({ 'owner-2' => 1 }, 'the call went to owner-2, none to owner-1');
    like(WaPairCluster::log_of('edge-b', 'access.log'), qr/device=dev-move owner=owner-2 /, "edge B's log names the new owner");
    WaPairCluster::set_placement(%Placement);
}

note 'an edge lost during a call: the owner finishes it, the retry through the other edge gets its code';
{
    my $bg = WaPairCluster::post_background('edge-a', device => 'dev-edge-lost', phone => $Phone{'dev-edge-lost'});
    my $deadline = time + 10;
    Time::HiRes::sleep(0.05) until WaPairCluster::engine_calls()->{'owner-1'} > $Calls{'owner-1'} || time > $deadline;
    WaPairCluster::stop_node('edge-a');
    my $lost = WaPairCluster::background_result($bg);
    isnt($lost->{status}, 200, 'the client of the lost edge has no code');
    my $retry = pair('edge-b', 'dev-edge-lost');
    like($retry->{body}, $Code, 'its retry through edge B: a code');
    WaPairCluster::start_node('edge-a');
    is(code_of(pair('edge-a', 'dev-edge-lost')), code_of($retry), 'edge A back: the same code');
    engines_saw({ 'owner-1' => 1 }, 'one call: the lost edge cost no extra code');
}

note 'the engines saw each call once';
for my $owner (WaPairCluster::owners()) {
    my @misses = WaPairCluster::log_of($owner, 'access.log') =~ / cache=miss /g;
    is(scalar @misses, $Calls{$owner}, "$owner: each call it made ($Calls{$owner}) reached its engine once");
}
for my $node (WaPairCluster::edges(), WaPairCluster::owners()) {
    unlike(WaPairCluster::log_of($node, 'error.log'), qr/\[(alert|crit|emerg)\]/, "$node: nothing alarming in its error log");
}

done_testing();
