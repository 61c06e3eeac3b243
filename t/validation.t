use strict; use warnings;
BEGIN { push @INC, 't/lib' }   # appended, so a real Test::Nginx wins when installed
use WaPairTest;                # starts the dev backend, writes secrets, mints tokens
use Test::Nginx::Socket 'no_plan';

# Steps 3 and 4 of the request flow (docs/architecture.md §1, README.md "What a client gets"): the body is JSON (also
# without Content-Type) or a urlencoded form, else 415; the phone is normalised (trim; drop
# spaces, '-', '(', ')', '.'; drop one leading '+' or a leading "00") and checked in this
# order, each failure a 400 with its own text:
#   empty                    "Phone number is required"
#   any non-digit            "Phone number must contain digits only"
#   leading 0                "Phone number must start with the country code, not 0"
#   not 7..15 digits         "Phone number must have 7 to 15 digits"
# The backend only ever receives the digits.
#
# Unless a block says otherwise: the config is the doc's location in front of the dev
# backend reached through /recorder/, a proxy that logs the body of each request the backend
# is sent to /backend-log; the backend answers the doc's code ABCD-1234. A request carries a
# valid device token; its Content-Type is each block's own. /backend-stats is the dev
# backend's request counter, reset before each block.

our $LoginCode = <<'_EOC_';
    location = /devices/me/login-code {
        wa_pair;
        wa_pair_backend http://127.0.0.1:$TEST_NGINX_SERVER_PORT/recorder/v1/pair-code?pair_code=ABCD1234;
        wa_pair_jwt_secret_file $TEST_NGINX_JWT_SECRET_FILE;
    }
_EOC_

our $Helpers = <<'_EOC_';
    location /recorder/ {
        access_log logs/backend.log wa_backend;
        proxy_pass http://unix:$TEST_NGINX_BACKEND_SOCK:/;
    }
    location = /backend-log {
        alias logs/backend.log;
    }
    location = /backend-stats {
        proxy_pass http://unix:$TEST_NGINX_BACKEND_SOCK:/_stats;
    }
_EOC_

our $Ok = '{"status":true,"code":200,"message":"Pairing code generated successfully","data":{"pair_code":"ABCD-1234","timeout":120}}';
sub main::bad { '{"status":false,"code":400,"message":"Bad request","error":"' . $_[0] . '"}' }
sub main::post_json { "POST /devices/me/login-code\n" . $_[0] }

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => ($block->config // $LoginCode) . $Helpers);
    $block->set_value(http_config => ($block->http_config // '')
        . "    log_format wa_backend escape=none '\$request_body';\n");
    $block->set_value(init => 'WaPairTest::backend_reset();') unless defined $block->init;
    $block->set_value(more_headers => with_headers($block->more_headers, auth_header()))
        unless defined $block->raw_request;
    # nothing alarming may reach the error log, whatever the block proves
    $block->set_value(no_error_log => with_patterns($block->no_error_log, alarming()));
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the doc's request body gives the doc's answer, and the backend gets the phone as is
--- more_headers
Content-Type: application/json
--- request eval
[main::post_json('{"phone":"6281234567890"}'), "GET /backend-log"]
--- response_body eval
[$main::Ok, qq{{"device_id":"dev-42","phone":"6281234567890"}\n}]



=== TEST 2: "+62 812-3456-7890" is accepted and the backend receives digits only
--- more_headers
Content-Type: application/json
--- request eval
[main::post_json('{"phone":"+62 812-3456-7890"}'), "GET /backend-log"]
--- response_body eval
[$main::Ok, qq{{"device_id":"dev-42","phone":"6281234567890"}\n}]



=== TEST 3: a leading 00, parentheses, dots and surrounding whitespace are dropped too
--- more_headers
Content-Type: application/json
--- request eval
[main::post_json('{"phone":"0062 (812) 3456.7890"}'),
 main::post_json('{"phone":" \t6281234567890 \t"}'),
 main::post_json('{"phone":"(+62) 812.3456.7890"}'),
 "GET /backend-log"]
--- response_body eval
[($main::Ok) x 3, qq{{"device_id":"dev-42","phone":"6281234567890"}\n} x 3]



=== TEST 4: JSON escapes in the phone are decoded before the checks
--- more_headers
Content-Type: application/json
--- request eval
[main::post_json('{"phone":"\u0036\u0032812\u002d3456\u002D7890"}'), "GET /backend-log"]
--- response_body eval
[$main::Ok, qq{{"device_id":"dev-42","phone":"6281234567890"}\n}]



=== TEST 5: no phone: 400 "Phone number is required" (the doc's example)
--- more_headers
Content-Type: application/json
--- request
POST /devices/me/login-code
{}
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body chomp
{"status":false,"code":400,"message":"Bad request","error":"Phone number is required"}



=== TEST 6: a null, empty or separators-only phone is a missing phone
--- more_headers
Content-Type: application/json
--- request eval
[main::post_json('{"phone":null}'),
 main::post_json('{"phone":""}'),
 main::post_json('{"phone":"   "}'),
 main::post_json('{"phone":" - ( ) . "}'),
 main::post_json('{"phone":"+"}'),
 main::post_json('{"Phone":"6281234567890"}')]
--- error_code eval
[(400) x 6]
--- response_body eval
[(main::bad("Phone number is required")) x 6]



=== TEST 7: a phone that is not a JSON string is refused
--- more_headers
Content-Type: application/json
--- request eval
[main::post_json('{"phone":6281234567890}'),
 main::post_json('{"phone":true}'),
 main::post_json('{"phone":["6281234567890"]}'),
 main::post_json('{"phone":{"number":"6281234567890"}}')]
--- error_code eval
[(400) x 4]
--- response_body eval
[(main::bad("Phone number must be a string")) x 4]



=== TEST 8: letters and other signs left after normalising are refused
--- more_headers
Content-Type: application/json
--- request eval
[main::post_json('{"phone":"62812abc4567"}'),
 main::post_json('{"phone":"++6281234567890"}'),
 main::post_json('{"phone":"62+81234567890"}'),
 main::post_json('{"phone":"6281234567890#"}'),
 main::post_json('{"phone":"62/812/3456/7890"}'),
 main::post_json(qq{{"phone":"\xef\xbc\x96\xef\xbc\x92812345678"}}),
 main::post_json('{"phone":"62812\u00a034567890"}')]
--- error_code eval
[(400) x 7]
--- response_body eval
[(main::bad("Phone number must contain digits only")) x 7]



=== TEST 9: a national number (leading 0) is refused: the country code is needed
--- more_headers
Content-Type: application/json
--- request eval
[main::post_json('{"phone":"081234567890"}'),
 main::post_json('{"phone":"+0812345678"}'),
 main::post_json('{"phone":"000812345678"}')]
--- error_code eval
[(400) x 3]
--- response_body eval
[(main::bad("Phone number must start with the country code, not 0")) x 3]



=== TEST 10: fewer than 7 or more than 15 digits are refused
--- more_headers
Content-Type: application/json
--- request eval
[main::post_json('{"phone":"123456"}'),
 main::post_json('{"phone":"+62 812"}'),
 main::post_json('{"phone":"1234567890123456"}'),
 main::post_json('{"phone":"00 6281 2345 6789 0123"}')]
--- error_code eval
[(400) x 4]
--- response_body eval
[(main::bad("Phone number must have 7 to 15 digits")) x 4]



=== TEST 11: 7 and 15 digits are the limits that pass
--- more_headers
Content-Type: application/json
--- request eval
[main::post_json('{"phone":"1234567"}'),
 main::post_json('{"phone":"123456789012345"}'),
 "GET /backend-log"]
--- response_body eval
[$main::Ok, $main::Ok,
 qq{{"device_id":"dev-42","phone":"1234567"}\n{"device_id":"dev-42","phone":"123456789012345"}\n}]



=== TEST 12: the checks run in order: digits, then the leading 0, then the length
--- more_headers
Content-Type: application/json
--- request eval
[main::post_json('{"phone":"0812abc"}'),
 main::post_json('{"phone":"0123"}'),
 main::post_json('{"phone":"12"}')]
--- error_code eval
[400, 400, 400]
--- response_body eval
[main::bad("Phone number must contain digits only"),
 main::bad("Phone number must start with the country code, not 0"),
 main::bad("Phone number must have 7 to 15 digits")]



=== TEST 13: a body that is not JSON is refused
--- more_headers
Content-Type: application/json
--- request eval
[main::post_json('{"phone":'),
 main::post_json('phone=6281234567890'),
 main::post_json("{'phone':'6281234567890'}"),
 main::post_json('{"phone":"6281234567890"} x'),
 main::post_json('{"phone":"6281234567890"}{}'),
 main::post_json('{"phone":"6281234567890",}'),
 main::post_json(qq{{"phone":"62812\xff34567890"}})]
--- error_code eval
[(400) x 7]
--- response_body eval
[(main::bad("Request body is not valid JSON")) x 7]



=== TEST 14: JSON nested deeper than 8 levels is refused as not valid JSON; shallow nesting is fine
--- more_headers
Content-Type: application/json
--- request eval
[main::post_json('{"phone":"6281234567890","x":' . ('[' x 64) . (']' x 64) . '}'),
 main::post_json('{"phone":"6281234567890","x":{"y":[1,{"z":null}]}}')]
--- error_code eval
[400, 200]
--- response_body eval
[main::bad("Request body is not valid JSON"), $main::Ok]



=== TEST 15: JSON that is not an object is refused
--- more_headers
Content-Type: application/json
--- request eval
[main::post_json('["6281234567890"]'),
 main::post_json('"6281234567890"'),
 main::post_json('6281234567890'),
 main::post_json('null')]
--- error_code eval
[(400) x 4]
--- response_body eval
[(main::bad("Request body must be a JSON object")) x 4]



=== TEST 16: whitespace around the JSON is fine
--- raw_request eval
WaPairTest::raw_post('/devices/me/login-code',
    headers => [WaPairTest::auth_header(), 'Content-Type: application/json'],
    body    => qq{\r\n  {"phone" : "6281234567890"}\n\n})
--- response_body eval
$main::Ok



=== TEST 17: other fields are ignored
--- more_headers
Content-Type: application/json
--- request eval
main::post_json('{"name":"my phone","phone":"6281234567890","extra":{"a":[1,2]}}')
--- response_body eval
$main::Ok



=== TEST 18: "refresh" must be a boolean when present
--- more_headers
Content-Type: application/json
--- request eval
[main::post_json('{"phone":"6281234567890","refresh":true}'),
 main::post_json('{"phone":"6281234567890","refresh":false}'),
 main::post_json('{"phone":"6281234567890","refresh":"yes"}'),
 main::post_json('{"phone":"6281234567890","refresh":1}')]
--- error_code eval
[200, 200, 400, 400]
--- response_body eval
[$main::Ok, $main::Ok, main::bad("Field refresh must be a boolean"), main::bad("Field refresh must be a boolean")]



=== TEST 19: a form body is accepted and normalised the same way
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /devices/me/login-code\nphone=6281234567890",
 "POST /devices/me/login-code\nname=my+phone&phone=%2B62+812-3456-7890",
 "POST /devices/me/login-code\nphone=0062%20(812)%203456.7890",
 "GET /backend-log"]
--- response_body eval
[($main::Ok) x 3, qq{{"device_id":"dev-42","phone":"6281234567890"}\n} x 3]



=== TEST 20: form bodies get the same phone errors
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /devices/me/login-code\nphone=",
 "POST /devices/me/login-code\nname=x",
 "POST /devices/me/login-code\nphone=62812abc4567",
 "POST /devices/me/login-code\nphone=081234567890",
 "POST /devices/me/login-code\nphone=123456"]
--- error_code eval
[(400) x 5]
--- response_body eval
[main::bad("Phone number is required"), main::bad("Phone number is required"),
 main::bad("Phone number must contain digits only"),
 main::bad("Phone number must start with the country code, not 0"),
 main::bad("Phone number must have 7 to 15 digits")]



=== TEST 21: a form with bad %-encoding is refused
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /devices/me/login-code\nphone=%ZZ6281234567890",
 "POST /devices/me/login-code\nphone=6281234567890%4"]
--- error_code eval
[400, 400]
--- response_body eval
[(main::bad("Request body is not a valid form")) x 2]



=== TEST 22: a body of another type is a 415
--- more_headers eval
["Content-Type: text/plain", "Content-Type: multipart/form-data; boundary=x",
 "Content-Type: application/xml"]
--- request eval
[(main::post_json('{"phone":"6281234567890"}')) x 3]
--- error_code eval
[415, 415, 415]
--- response_headers eval
[("Content-Type: application/json\nCache-Control: no-store") x 3]
--- response_body eval
[('{"status":false,"code":415,"message":"Unsupported media type","error":"Content-Type must be application/json or application/x-www-form-urlencoded"}') x 3]



=== TEST 23: without Content-Type the body is read as JSON
--- more_headers
!Content-Type
--- request eval
[main::post_json('{"phone":"6281234567890"}'), "GET /backend-log"]
--- response_body eval
[$main::Ok, qq{{"device_id":"dev-42","phone":"6281234567890"}\n}]



=== TEST 24: Content-Type parameters and case do not matter; +json types are JSON
--- more_headers eval
["Content-Type: application/json; charset=utf-8",
 "Content-Type: Application/JSON",
 "Content-Type: application/vnd.api+json",
 "Content-Type: application/x-www-form-urlencoded; charset=UTF-8"]
--- request eval
[main::post_json('{"phone":"6281234567890"}'),
 main::post_json('{"phone":"6281234567890"}'),
 main::post_json('{"phone":"6281234567890"}'),
 "POST /devices/me/login-code\nphone=6281234567890"]
--- response_body eval
[($main::Ok) x 4]



=== TEST 25: an empty body is a missing phone
--- more_headers eval
["Content-Type: application/json", "Content-Type: application/json\nContent-Length: 0",
 "Content-Type: application/x-www-form-urlencoded\nContent-Length: 0"]
--- request eval
["POST /devices/me/login-code", "POST /devices/me/login-code", "POST /devices/me/login-code"]
--- error_code eval
[400, 400, 400]
--- response_body eval
[(main::bad("Phone number is required")) x 3]



=== TEST 26: refused bodies never reach the backend
--- more_headers eval
["Content-Type: application/json", "Content-Type: application/json",
 "Content-Type: text/plain", "Content-Type: application/json", ""]
--- request eval
[main::post_json('{"phone":"081234567890"}'),
 main::post_json('not json'),
 main::post_json('{"phone":"6281234567890"}'),
 main::post_json('{}'),
 "GET /backend-stats"]
--- error_code eval
[400, 400, 415, 400, 200]
--- response_body_like eval
['"code":400', '"code":400', '"code":415', '"code":400', '^\{"requests":0,']



=== TEST 27: curl -d without a Content-Type (form-typed) and a JSON body: read as JSON, the doc's answer, byte for byte
What `curl -X POST http://.../devices/me/login-code -H "Authorization: Bearer $T"
-d '{"phone":"+62 812-3456-7890"}'` sends: curl's own headers and the form type.
--- raw_request eval
"POST /devices/me/login-code HTTP/1.1\r\nHost: 127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n"
. WaPairTest::auth_header() . "\r\nContent-Length: 29\r\nContent-Type: application/x-www-form-urlencoded\r\n"
. "Connection: close\r\n\r\n" . '{"phone":"+62 812-3456-7890"}'
--- error_code: 200
--- response_body eval
$main::Ok



=== TEST 28: ... and the backend got the digits only
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /devices/me/login-code\n{\"phone\":\"+62 812-3456-7890\"}", "GET /backend-log"]
--- response_body eval
[$main::Ok, qq{{"device_id":"dev-42","phone":"6281234567890"}\n}]
