// Where the pairing backend is: wa_pair_backend's URL (and its form with variables, checked at
// nginx -t), wa_pair_backend_header's names and values, and the escaping of
// $wa_pair_device_id.
#include <gtest/gtest.h>

#include <string>

#include "backend/backend.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

// ---------------------------------------------------------------------------------------------
// parse_backend_url: every form proxy_pass accepts, and what is refused at nginx -t

struct Parsed {
    bool tls;
    std::string address;
    std::string host;
    std::string uri;
    bool has_uri;
};

struct UrlRow {
    const char *name;
    std::string value;
    Parsed want;        // on success
    const char *error;  // a part of the error text on failure, nullptr on success
};

void PrintTo(const UrlRow &row, std::ostream *os) {
    *os << row.name;
}

class BackendUrlParse : public testing::TestWithParam<UrlRow> {};

TEST_P(BackendUrlParse, Parses) {
    const UrlRow &row = GetParam();
    const BackendUrl parsed = parse_backend_url(row.value);
    if (row.error == nullptr) {
        EXPECT_EQ(parsed.error, "");
        EXPECT_EQ(parsed.tls, row.want.tls);
        EXPECT_EQ(parsed.address, row.want.address);
        EXPECT_EQ(parsed.host, row.want.host);
        EXPECT_EQ(parsed.uri, row.want.uri);
        EXPECT_EQ(parsed.has_uri, row.want.has_uri);
    } else {
        EXPECT_NE(parsed.error.find(row.error), std::string::npos) << parsed.error;
        EXPECT_FALSE(parsed.tls);
        EXPECT_EQ(parsed.address, "");
        EXPECT_EQ(parsed.host, "");
        EXPECT_EQ(parsed.uri, "");
        EXPECT_FALSE(parsed.has_uri);
    }
}

constexpr bool kHttp = false;
constexpr bool kHttps = true;
constexpr bool kOwnUri = true;
constexpr bool kDefaultUri = false;
constexpr const char *kPairCode = "/v1/pair-code";  // parse_backend_url's default_uri

constexpr const char *kScheme = "the URL must start with http:// or https://";
constexpr const char *kBadChars = "the URL must not contain spaces, control characters or non-ASCII bytes";
constexpr const char *kFragment = "a fragment (#) is not allowed";
constexpr const char *kUserInfo = "user information in the URL is not supported";
constexpr const char *kNoHost = "the host is missing";
constexpr const char *kHostChars = "the host name may contain only letters, digits, '-', '.' and '_'";
constexpr const char *kHostEnds = "the host name must not start or end with '-' or '.'";
constexpr const char *kHostLabel = "the host name has an empty label (..)";
constexpr const char *kHostLong = "the host name is longer than 253 characters";
constexpr const char *kIpv4 = "invalid IPv4 address";
constexpr const char *kIpv6 = "invalid IPv6 address";
constexpr const char *kIpv6Open = "unterminated IPv6 address";
constexpr const char *kIpv6After = "only :port may follow the IPv6 address";
constexpr const char *kIpv6Brackets = "an IPv6 address must be in brackets";
constexpr const char *kPort = "the port must be a number from 1 to 65535";
constexpr const char *kUriSlash = "the URI must start with /";
constexpr const char *kUnixUri = "the URI after the unix socket path must start with /";
constexpr const char *kUnixMissing = "the unix socket path is missing";
constexpr const char *kUnixRelative = "the unix socket path must be absolute";
constexpr const char *kUnixQuery = "the unix socket path must not contain '?' or '#'";
constexpr const char *kUnixLong = "the unix socket path is too long";

// sockaddr_un::sun_path is 108 bytes on Linux: 107 and the terminating NUL.
const std::string kPath107 = "/" + std::string(106, 's');
const std::string kPath108 = "/" + std::string(107, 's');
// A host name of 253 characters (the DNS limit) and one of 254.
const std::string kHost253 = std::string(125, 'a') + "." + std::string(127, 'b');
const std::string kHost254 = std::string(126, 'a') + "." + std::string(127, 'b');

const UrlRow kUrls[] = {
    // unix sockets
    {"unix_default_uri",
     "http://unix:/run/wa.sock",
     {kHttp, "unix:/run/wa.sock", "localhost", kPairCode, kDefaultUri},
     nullptr},
    {"unix_with_uri",
     "http://unix:/run/wa-pair/backend.sock:/v1/pair-code",
     {kHttp, "unix:/run/wa-pair/backend.sock", "localhost", "/v1/pair-code", kOwnUri},
     nullptr},
    {"unix_uri_query",
     "http://unix:/tmp/b.sock:/api/pair?engine=gowa&v=2",
     {kHttp, "unix:/tmp/b.sock", "localhost", "/api/pair?engine=gowa&v=2", kOwnUri},
     nullptr},
    {"unix_root_uri_kept",
     "http://unix:/tmp/b.sock:/",
     {kHttp, "unix:/tmp/b.sock", "localhost", "/", kOwnUri},
     nullptr},
    {"unix_colon_inside_uri",
     "http://unix:/tmp/b.sock:/a:b",
     {kHttp, "unix:/tmp/b.sock", "localhost", "/a:b", kOwnUri},
     nullptr},
    {"unix_upper_case",
     "HTTP://UNIX:/tmp/B.sock",
     {kHttp, "unix:/tmp/B.sock", "localhost", kPairCode, kDefaultUri},
     nullptr},
    {"unix_at_in_path",
     "http://unix:/run/a@b.sock",
     {kHttp, "unix:/run/a@b.sock", "localhost", kPairCode, kDefaultUri},
     nullptr},
    {"unix_path_107_bytes",
     "http://unix:" + kPath107,
     {kHttp, "unix:" + kPath107, "localhost", kPairCode, kDefaultUri},
     nullptr},
    {"https_unix", "https://unix:/run/wa.sock:/p", {kHttps, "unix:/run/wa.sock", "localhost", "/p", kOwnUri}, nullptr},
    {"https_unix_upper",
     "HTTPS://Unix:/run/wa.sock",
     {kHttps, "unix:/run/wa.sock", "localhost", kPairCode, kDefaultUri},
     nullptr},
    // IPv4
    {"ipv4_port_uri",
     "http://127.0.0.1:8080/v1/pair-code",
     {kHttp, "127.0.0.1:8080", "127.0.0.1:8080", "/v1/pair-code", kOwnUri},
     nullptr},
    {"ipv4_port",
     "http://127.0.0.1:8080",
     {kHttp, "127.0.0.1:8080", "127.0.0.1:8080", kPairCode, kDefaultUri},
     nullptr},
    {"ipv4", "http://10.0.0.5", {kHttp, "10.0.0.5", "10.0.0.5", kPairCode, kDefaultUri}, nullptr},
    {"ipv4_root_uri_kept",
     "http://127.0.0.1:8080/",
     {kHttp, "127.0.0.1:8080", "127.0.0.1:8080", "/", kOwnUri},
     nullptr},
    {"ipv4_query_kept",
     "http://127.0.0.1:3000/session/pair?device=1",
     {kHttp, "127.0.0.1:3000", "127.0.0.1:3000", "/session/pair?device=1", kOwnUri},
     nullptr},
    {"ipv4_extremes", "http://0.0.0.0:1/", {kHttp, "0.0.0.0:1", "0.0.0.0:1", "/", kOwnUri}, nullptr},
    {"ipv4_max",
     "http://255.255.255.255",
     {kHttp, "255.255.255.255", "255.255.255.255", kPairCode, kDefaultUri},
     nullptr},
    {"port_1", "http://127.0.0.1:1", {kHttp, "127.0.0.1:1", "127.0.0.1:1", kPairCode, kDefaultUri}, nullptr},
    {"port_65535",
     "http://127.0.0.1:65535",
     {kHttp, "127.0.0.1:65535", "127.0.0.1:65535", kPairCode, kDefaultUri},
     nullptr},
    // ngx_atoi() reads "08080" as 8080; the Host header keeps it as written, as proxy_pass does.
    {"port_leading_zeros",
     "http://127.0.0.1:08080",
     {kHttp, "127.0.0.1:08080", "127.0.0.1:08080", kPairCode, kDefaultUri},
     nullptr},
    {"port_many_leading_zeros",
     "http://h:000000000080/",
     {kHttp, "h:000000000080", "h:000000000080", "/", kOwnUri},
     nullptr},
    {"uri_with_at_and_colon", "http://127.0.0.1/a@b:c", {kHttp, "127.0.0.1", "127.0.0.1", "/a@b:c", kOwnUri}, nullptr},
    {"uri_query_then_slash",
     "http://127.0.0.1/p?next=/x",
     {kHttp, "127.0.0.1", "127.0.0.1", "/p?next=/x", kOwnUri},
     nullptr},
    // IPv6
    {"ipv6", "http://[::1]:8080/x", {kHttp, "[::1]:8080", "[::1]:8080", "/x", kOwnUri}, nullptr},
    {"ipv6_no_port", "http://[::1]", {kHttp, "[::1]", "[::1]", kPairCode, kDefaultUri}, nullptr},
    {"ipv6_no_port_root", "http://[::1]/", {kHttp, "[::1]", "[::1]", "/", kOwnUri}, nullptr},
    {"ipv6_full",
     "http://[2001:db8:0:0:0:0:0:1]:443/p",
     {kHttp, "[2001:db8:0:0:0:0:0:1]:443", "[2001:db8:0:0:0:0:0:1]:443", "/p", kOwnUri},
     nullptr},
    {"ipv6_v4_mapped",
     "http://[::ffff:127.0.0.1]:80",
     {kHttp, "[::ffff:127.0.0.1]:80", "[::ffff:127.0.0.1]:80", kPairCode, kDefaultUri},
     nullptr},
    {"ipv6_upper_hex", "http://[FE80::AB]", {kHttp, "[FE80::AB]", "[FE80::AB]", kPairCode, kDefaultUri}, nullptr},
    // host names: resolved by nginx when the configuration loads, or an upstream{} block
    {"host_name_port",
     "http://waha:3000/api/default/auth/request-code",
     {kHttp, "waha:3000", "waha:3000", "/api/default/auth/request-code", kOwnUri},
     nullptr},
    {"upstream_name", "http://engines", {kHttp, "engines", "engines", kPairCode, kDefaultUri}, nullptr},
    {"host_underscore",
     "http://wa_engines:8080/",
     {kHttp, "wa_engines:8080", "wa_engines:8080", "/", kOwnUri},
     nullptr},
    {"host_leading_underscore", "http://_engines", {kHttp, "_engines", "_engines", kPairCode, kDefaultUri}, nullptr},
    {"host_dotted",
     "http://engine-1.wa.internal:8080",
     {kHttp, "engine-1.wa.internal:8080", "engine-1.wa.internal:8080", kPairCode, kDefaultUri},
     nullptr},
    {"host_case_kept",
     "http://Engines.Internal/x",
     {kHttp, "Engines.Internal", "Engines.Internal", "/x", kOwnUri},
     nullptr},
    {"host_one_char", "http://e", {kHttp, "e", "e", kPairCode, kDefaultUri}, nullptr},
    {"host_digits_then_name",
     "http://1.2.3.internal",
     {kHttp, "1.2.3.internal", "1.2.3.internal", kPairCode, kDefaultUri},
     nullptr},
    {"host_hex_looking_not_last",
     "http://0x7f.internal",
     {kHttp, "0x7f.internal", "0x7f.internal", kPairCode, kDefaultUri},
     nullptr},
    {"localhost",
     "http://localhost:9000",
     {kHttp, "localhost:9000", "localhost:9000", kPairCode, kDefaultUri},
     nullptr},
    {"host_253_chars", "http://" + kHost253, {kHttp, kHost253, kHost253, kPairCode, kDefaultUri}, nullptr},
    {"host_unix_without_colon", "http://unix/x", {kHttp, "unix", "unix", "/x", kOwnUri}, nullptr},
    // https
    {"https_ipv4",
     "https://127.0.0.1:8443/v1/pair-code",
     {kHttps, "127.0.0.1:8443", "127.0.0.1:8443", "/v1/pair-code", kOwnUri},
     nullptr},
    {"https_host", "https://engines", {kHttps, "engines", "engines", kPairCode, kDefaultUri}, nullptr},
    {"https_ipv6", "https://[::1]:8443/", {kHttps, "[::1]:8443", "[::1]:8443", "/", kOwnUri}, nullptr},
    {"https_upper_scheme", "HTTPS://waha:3000/x", {kHttps, "waha:3000", "waha:3000", "/x", kOwnUri}, nullptr},
    {"http_mixed_case_scheme", "HtTp://waha", {kHttp, "waha", "waha", kPairCode, kDefaultUri}, nullptr},

    // scheme
    {"empty", "", {}, "the URL is empty"},
    {"no_scheme", "127.0.0.1:8080", {}, kScheme},
    {"ftp", "ftp://127.0.0.1/", {}, kScheme},
    {"bare_unix_path", "unix:/tmp/b.sock", {}, kScheme},
    {"one_slash", "http:/127.0.0.1", {}, kScheme},
    {"httpss", "httpss://127.0.0.1", {}, kScheme},
    {"scheme_only_prefix", "http:", {}, kScheme},
    // bytes
    {"space_inside", "http://127.0.0.1:8080/v1/pair code", {}, kBadChars},
    {"leading_space", " http://127.0.0.1", {}, kBadChars},
    {"trailing_newline", "http://127.0.0.1\n", {}, kBadChars},
    {"tab", "http://127.0.0.1/\tx", {}, kBadChars},
    {"control_char", "http://127.0.0.1/\x01", {}, kBadChars},
    {"del", "http://127.0.0.1/\x7f", {}, kBadChars},
    {"non_ascii_uri", "http://127.0.0.1/p\xc3\xa9", {}, kBadChars},
    {"non_ascii_host", "http://caf\xc3\xa9.internal/", {}, kBadChars},
    {"nul", std::string("http://127.0.0.1/\0x", 19), {}, kBadChars},
    {"fragment", "http://127.0.0.1/v1/pair-code#x", {}, kFragment},
    {"fragment_after_authority", "http://engines#x", {}, kFragment},
    {"fragment_unix", "http://unix:/run/a.sock#x", {}, kFragment},
    // authority
    {"missing_host", "http://", {}, kNoHost},
    {"missing_host_https", "https://", {}, kNoHost},
    {"missing_host_with_uri", "http:///v1/pair-code", {}, kNoHost},
    {"missing_host_with_port", "http://:8080/", {}, kNoHost},
    {"user_info", "http://user:pw@127.0.0.1/", {}, kUserInfo},
    {"user_info_empty", "http://@engines/", {}, kUserInfo},
    {"user_info_before_unix", "https://u@unix:/run/a.sock", {}, kUserInfo},
    {"query_after_authority", "http://127.0.0.1:8080?x=1", {}, kUriSlash},
    {"query_after_host", "http://engines?key=k", {}, kUriSlash},
    {"query_after_ipv6", "http://[::1]?x", {}, kUriSlash},
    {"query_alone", "http://?x", {}, kUriSlash},
    // ports
    {"port_zero", "http://127.0.0.1:0", {}, kPort},
    {"port_zeros", "http://127.0.0.1:0000/", {}, kPort},
    {"port_65536", "http://127.0.0.1:65536", {}, kPort},
    {"port_huge", "http://127.0.0.1:99999999999999999999999", {}, kPort},
    {"port_empty", "http://127.0.0.1:/x", {}, kPort},
    {"port_empty_at_end", "http://engines:", {}, kPort},
    {"port_letters", "http://127.0.0.1:http", {}, kPort},
    {"port_signed", "http://127.0.0.1:+80", {}, kPort},
    {"port_negative", "http://127.0.0.1:-1", {}, kPort},
    {"port_ipv6_zero", "http://[::1]:0", {}, kPort},
    {"port_ipv6_empty", "http://[::1]:/", {}, kPort},
    {"port_ipv6_65536", "http://[::1]:65536", {}, kPort},
    // IPv6
    {"ipv6_unterminated", "http://[::1", {}, kIpv6Open},
    {"ipv6_unterminated_port", "http://[::1:8080/", {}, kIpv6Open},
    {"ipv6_empty", "http://[]/", {}, kIpv6},
    {"ipv6_garbage", "http://[::g]/", {}, kIpv6},
    {"ipv6_too_many_groups", "http://[1:2:3:4:5:6:7:8:9]/", {}, kIpv6},
    {"ipv6_two_double_colons", "http://[1::2::3]/", {}, kIpv6},
    {"ipv6_ipv4_inside", "http://[127.0.0.1]/", {}, kIpv6},
    {"ipv6_host_name_inside", "http://[engines]/", {}, kIpv6},
    {"ipv6_zone", "http://[fe80::1%25eth0]/", {}, kIpv6},
    {"ipv6_nested_brackets", "http://[[::1]]/", {}, kIpv6},
    {"ipv6_junk_after", "http://[::1]x/", {}, kIpv6After},
    {"ipv6_bracket_after", "http://[::1]]/", {}, kIpv6After},
    {"ipv6_without_brackets", "http://::1/", {}, kIpv6Brackets},
    {"ipv6_without_brackets_full", "http://fe80::1:8080/", {}, kIpv6Brackets},
    // host names
    {"host_trailing_dot", "http://engines./", {}, kHostEnds},
    {"host_leading_dot", "http://.engines/", {}, kHostEnds},
    {"host_leading_dash", "http://-engines/", {}, kHostEnds},
    {"host_trailing_dash", "http://engines-:80/", {}, kHostEnds},
    {"host_dot_only", "http://./", {}, kHostEnds},
    {"host_empty_label", "http://a..b/", {}, kHostLabel},
    {"host_254_chars", "http://" + kHost254, {}, kHostLong},
    {"host_254_chars_bad_end", "http://" + std::string(253, 'a') + ".", {}, kHostLong},
    {"host_bang", "http://eng!nes/", {}, kHostChars},
    {"host_percent", "http://exa%6dple/", {}, kHostChars},
    {"host_comma", "http://a,b/", {}, kHostChars},
    {"host_backslash", "http://a\\b/", {}, kHostChars},
    {"host_dollar", "http://$host/", {}, kHostChars},
    {"host_bracket_inside", "http://a[::1]/", {}, kHostChars},
    {"host_tilde", "http://a~b:80", {}, kHostChars},
    // a host ending in a number is an IPv4 address or nothing
    {"ipv4_out_of_range", "http://256.0.0.1/", {}, kIpv4},
    {"ipv4_short_form", "http://127.1/", {}, kIpv4},
    {"ipv4_leading_zero", "http://127.000.000.001/", {}, kIpv4},
    {"ipv4_five_parts", "http://1.2.3.4.5/", {}, kIpv4},
    {"ipv4_one_number", "http://2130706433/", {}, kIpv4},
    {"ipv4_hex", "http://0x7f000001/", {}, kIpv4},
    {"ipv4_hex_last_part", "http://127.0.0.0x1/", {}, kIpv4},
    {"ipv4_name_then_number", "http://engines.1:80/", {}, kIpv4},
    {"ipv4_trailing_dot", "http://127.0.0.1./", {}, kHostEnds},
    // unix sockets
    {"unix_missing_path", "http://unix:", {}, kUnixMissing},
    {"unix_missing_path_with_uri", "http://unix::/x", {}, kUnixMissing},
    {"unix_relative_path", "http://unix:run/b.sock", {}, kUnixRelative},
    {"unix_dot_relative_path", "http://unix:./b.sock", {}, kUnixRelative},
    {"unix_port_like", "http://unix:80/x", {}, kUnixRelative},
    {"unix_uri_without_slash", "http://unix:/tmp/b.sock:v1/pair-code", {}, kUnixUri},
    {"unix_empty_uri", "http://unix:/x.sock:", {}, kUnixUri},
    {"unix_query_as_uri", "http://unix:/x.sock:?a=1", {}, kUnixUri},
    {"unix_query_in_path", "http://unix:/tmp/b.sock?x=1", {}, kUnixQuery},
    {"unix_path_108_bytes", "http://unix:" + kPath108, {}, kUnixLong},
    {"https_unix_relative", "https://unix:b.sock", {}, kUnixRelative},
};

INSTANTIATE_TEST_SUITE_P(Table, BackendUrlParse, testing::ValuesIn(kUrls), RowName());

// The protocol's documented path applies when the value has none; a value's own URI always wins;
// an empty default_uri leaves the URI to the caller.
TEST(BackendUrlDefault, ProtocolPathWhenAbsent) {
    const BackendUrl gowa = parse_backend_url("http://unix:/run/gowa.sock", "/app/login-with-code");
    EXPECT_EQ(gowa.uri, "/app/login-with-code");
    EXPECT_FALSE(gowa.has_uri);
    EXPECT_EQ(parse_backend_url("http://127.0.0.1:3000", "/api/default/auth/request-code").uri,
              "/api/default/auth/request-code");
    const BackendUrl own =
        parse_backend_url("http://waha:3000/api/s1/auth/request-code", "/api/default/auth/request-code");
    EXPECT_EQ(own.uri, "/api/s1/auth/request-code");
    EXPECT_TRUE(own.has_uri);
    EXPECT_EQ(parse_backend_url("http://unix:/w.sock:/", "/session/pairphone").uri, "/");

    for (const char *value : {"http://engines", "https://[::1]:8443", "http://unix:/run/wa.sock"}) {
        const BackendUrl url = parse_backend_url(value, "");
        EXPECT_EQ(url.error, "") << value;
        EXPECT_EQ(url.uri, "") << value;
        EXPECT_FALSE(url.has_uri) << value;
    }
    const BackendUrl root = parse_backend_url("http://engines/", "");
    EXPECT_EQ(root.uri, "/");
    EXPECT_TRUE(root.has_uri);
}

TEST(BackendLogName, NeverTheQuery) {
    const auto name = [](std::string_view value, std::string_view default_uri = "/v1/pair-code") {
        return backend_log_name(parse_backend_url(value, default_uri));
    };
    EXPECT_EQ(name("http://unix:/run/b.sock:/x?token=secret"), "unix:/run/b.sock:/x");
    EXPECT_EQ(name("http://unix:/run/b.sock"), "unix:/run/b.sock:/v1/pair-code");
    EXPECT_EQ(name("HTTP://UNIX:/run/b.sock:/?k=v"), "unix:/run/b.sock:/");
    EXPECT_EQ(name("https://unix:/run/x.sock"), "https://unix:/run/x.sock:/v1/pair-code");
    EXPECT_EQ(name("http://127.0.0.1:8080/a/b?apikey=k"), "http://127.0.0.1:8080/a/b");
    EXPECT_EQ(name("http://[::1]"), "http://[::1]/v1/pair-code");
    EXPECT_EQ(name("https://engines"), "https://engines/v1/pair-code");
    EXPECT_EQ(name("HTTPS://waha:3000/api/x?session=s&key=k"), "https://waha:3000/api/x");
    EXPECT_EQ(name("http://engines/?key=k"), "http://engines/");
    EXPECT_EQ(name("http://engines", ""), "http://engines");
    EXPECT_EQ(name("http://unix:/run/b.sock", ""), "unix:/run/b.sock");
}

// ---------------------------------------------------------------------------------------------
// check_backend_url_template: a value with variables, at nginx -t

struct TemplateRow {
    const char *name;
    const char *value;
    const char *error;  // "" when accepted
};

void PrintTo(const TemplateRow &row, std::ostream *os) {
    *os << row.name;
}

class BackendUrlTemplate : public testing::TestWithParam<TemplateRow> {};

TEST_P(BackendUrlTemplate, Checks) {
    EXPECT_EQ(check_backend_url_template(GetParam().value), GetParam().error);
}

const TemplateRow kTemplates[] = {
    {"path_variable", "http://127.0.0.1:3000/api/$wa_pair_device_id/auth/request-code", ""},
    {"braced_variable", "http://127.0.0.1:3000/api/${wa_pair_device_id}x/auth/request-code", ""},
    {"query_variable", "http://unix:/run/e.sock:/instance/connect/$arg_i?x=$wa_pair_device_id", ""},
    {"socket_name_variable", "http://unix:/run/wa/$wa_pair_device_id.sock", ""},
    {"whole_socket_path", "http://unix:$socket_path", ""},
    {"port_variable", "http://127.0.0.1:$port/x", ""},
    {"last_octet_variable", "http://127.0.0.$n:8080/x", ""},
    {"host_variable", "http://$backend_host:8080/x", ""},
    {"authority_variable", "http://$backend/x", ""},
    {"label_variable", "http://$engine.wa.internal:3000/x", ""},
    {"no_variable", "http://127.0.0.1/x", ""},
    {"https", "https://127.0.0.1/$x", ""},
    {"https_unix", "https://unix:/run/$x.sock:/p", ""},
    {"dns_name", "http://engine.internal:8080/api/$x", ""},
    {"scheme_variable", "$scheme://127.0.0.1/x", "the URL must start with http:// or https://"},
    {"relative_socket", "http://unix:run/$x.sock", "the unix socket path must be absolute"},
    {"space", "http://127.0.0.1/a $x", "the URL must not contain spaces, control characters or non-ASCII bytes"},
    {"user_info", "http://$user@127.0.0.1/", "user information in the URL is not supported"},
    {"bad_host", "http://eng!ne/$x", "the host name may contain only letters, digits, '-', '.' and '_'"},
    {"query_after_host", "http://$backend?x=$y", "the URI must start with /"},
    {"fragment", "http://$backend/x#$y", "a fragment (#) is not allowed"},
    // no placeholder makes an IPv6 address: an address in a variable needs the whole authority
    {"ipv6_variable", "http://[$addr]:8080/x", "invalid IPv6 address"},
};

INSTANTIATE_TEST_SUITE_P(Table, BackendUrlTemplate, testing::ValuesIn(kTemplates), RowName());

// ---------------------------------------------------------------------------------------------
// wa_pair_backend_header: names and values

struct HeaderNameRow {
    const char *name;
    std::string header;
    const char *error;  // "" when accepted
};

void PrintTo(const HeaderNameRow &row, std::ostream *os) {
    *os << row.name;
}

class HeaderName : public testing::TestWithParam<HeaderNameRow> {};

TEST_P(HeaderName, Checks) {
    EXPECT_EQ(check_header_name(GetParam().header), GetParam().error);
}

constexpr const char *kNotToken = "the header name must be an HTTP token";

const HeaderNameRow kHeaderNames[] = {
    {"api_key", "X-Api-Key", ""},
    {"lower", "apikey", ""},
    {"wuzapi_token", "token", ""},
    {"authorization", "Authorization", ""},
    {"host", "Host", ""},
    {"all_tchars", "a!#$%&'*+-.^_`|~9", ""},
    {"empty", "", "the header name is empty"},
    {"space", "X Api", kNotToken},
    {"colon", "X-Api:", kNotToken},
    {"cr", "X-Api\r", kNotToken},
    {"lf", "X\nInjected", kNotToken},
    {"nul", std::string("X\0Y", 3), kNotToken},
    {"quote", "X\"Y", kNotToken},
    {"non_ascii", "X-\xc3\xa9", kNotToken},
    {"content_length", "content-length", "the header \"Content-Length\" is set by the module itself"},
    {"transfer_encoding", "Transfer-Encoding", "the header \"Transfer-Encoding\" is set by the module itself"},
    {"connection", "CONNECTION", "the header \"Connection\" is set by the module itself"},
    {"expect", "Expect", "the header \"Expect\" is set by the module itself"},
};

INSTANTIATE_TEST_SUITE_P(Table, HeaderName, testing::ValuesIn(kHeaderNames), RowName());

TEST(HeaderValue, RefusesWhatCouldSplitTheRequest) {
    EXPECT_TRUE(valid_header_value(""));
    EXPECT_TRUE(valid_header_value("Basic dXNlcjpzZWNyZXQ="));
    EXPECT_TRUE(valid_header_value("a\tb ~"));
    EXPECT_TRUE(valid_header_value("caf\xc3\xa9"));  // obs-text is legal in a field value
    EXPECT_FALSE(valid_header_value("a\r\nX-Injected: 1"));
    EXPECT_FALSE(valid_header_value("a\nb"));
    EXPECT_FALSE(valid_header_value("a\rb"));
    EXPECT_FALSE(valid_header_value(std::string("a\0b", 3)));
    EXPECT_FALSE(valid_header_value("a\x7f"));
    EXPECT_FALSE(valid_header_value("a\x1b[31m"));
}

// ---------------------------------------------------------------------------------------------
// url_escape ($wa_pair_device_id)

TEST(UrlEscape, KeepsOnlyTheSafeSet) {
    EXPECT_EQ(url_escape("dev-42_A"), "dev-42_A");
    EXPECT_EQ(url_escape("a/../b"), "a%2F%2E%2E%2Fb");
    EXPECT_EQ(url_escape(".."), "%2E%2E");
    EXPECT_EQ(url_escape("a b?c#d&e=f%"), "a%20b%3Fc%23d%26e%3Df%25");
    EXPECT_EQ(url_escape("62812@s.whatsapp.net"), "62812%40s%2Ewhatsapp%2Enet");
    EXPECT_EQ(url_escape("\xc3\xa9\x01"), "%C3%A9%01");
    EXPECT_EQ(url_escape(""), "");
}

}  // namespace
}  // namespace wa_pair
