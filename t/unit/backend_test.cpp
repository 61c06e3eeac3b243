// Where the pairing backend is: wa_pair_backend's URL (and its form with variables, checked at
// nginx -t), wa_pair_backend_header's names and values, and the escaping of
// $wa_pair_device_id.
#include <gtest/gtest.h>

#include <string>

#include "../../src/backend.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

// ---------------------------------------------------------------------------------------------
// parse_backend_url

struct UrlRow {
    const char* name;
    std::string value;
    std::string url;          // expected on success
    std::string unix_socket;  // expected on success
    const char* error;        // expected text on failure, nullptr on success
};

void PrintTo(const UrlRow& row, std::ostream* os) { *os << row.name; }

class BackendUrlParse : public testing::TestWithParam<UrlRow> {};

TEST_P(BackendUrlParse, Parses)
{
    const UrlRow& row = GetParam();
    const BackendUrl parsed = parse_backend_url(row.value);
    if (row.error == nullptr) {
        EXPECT_EQ(parsed.error, "");
        EXPECT_EQ(parsed.url, row.url);
        EXPECT_EQ(parsed.unix_socket, row.unix_socket);
    } else {
        EXPECT_EQ(parsed.error, row.error);
        EXPECT_EQ(parsed.url, "");
        EXPECT_EQ(parsed.unix_socket, "");
    }
}

constexpr const char* kHostError = "the host must be an IP address or localhost (no DNS in a worker)";
constexpr const char* kBadChars =
    "the URL must not contain spaces, control characters or non-ASCII bytes";

const UrlRow kUrls[] = {
    {"unix_default_uri", "http://unix:/run/wa-pair/backend.sock",
     "http://localhost/v1/pair-code", "/run/wa-pair/backend.sock", nullptr},
    {"unix_with_uri", "http://unix:/run/wa-pair/backend.sock:/v1/pair-code",
     "http://localhost/v1/pair-code", "/run/wa-pair/backend.sock", nullptr},
    {"unix_custom_uri_query", "http://unix:/tmp/b.sock:/api/pair?engine=gowa&v=2",
     "http://localhost/api/pair?engine=gowa&v=2", "/tmp/b.sock", nullptr},
    {"unix_upper_case_scheme", "HTTP://UNIX:/tmp/b.sock", "http://localhost/v1/pair-code",
     "/tmp/b.sock", nullptr},
    {"unix_107_byte_path", "http://unix:/" + std::string(106, 's'),
     "http://localhost/v1/pair-code", "/" + std::string(106, 's'), nullptr},
    {"ipv4_port_uri", "http://127.0.0.1:8080/v1/pair-code", "http://127.0.0.1:8080/v1/pair-code",
     "", nullptr},
    {"ipv4_port", "http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/pair-code", "", nullptr},
    {"ipv4", "http://10.0.0.5", "http://10.0.0.5/v1/pair-code", "", nullptr},
    {"ipv4_root_uri_kept", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/", "", nullptr},
    {"ipv4_query_kept", "http://127.0.0.1:3000/session/pair?device=1",
     "http://127.0.0.1:3000/session/pair?device=1", "", nullptr},
    {"localhost", "http://localhost:9000", "http://localhost:9000/v1/pair-code", "", nullptr},
    {"localhost_mixed_case", "http://LocalHost:9000/p", "http://localhost:9000/p", "", nullptr},
    {"ipv6", "http://[::1]:8080/x", "http://[::1]:8080/x", "", nullptr},
    {"ipv6_no_port", "http://[::1]", "http://[::1]/v1/pair-code", "", nullptr},
    {"port_65535", "http://127.0.0.1:65535", "http://127.0.0.1:65535/v1/pair-code", "", nullptr},
    // refused at nginx -t
    {"empty", "", "", "", "the URL is empty"},
    {"https", "https://127.0.0.1:8443/v1/pair-code", "", "",
     "https is not supported: use http:// to a unix socket or a local address"},
    {"https_upper", "HTTPS://127.0.0.1", "", "",
     "https is not supported: use http:// to a unix socket or a local address"},
    {"no_scheme", "127.0.0.1:8080", "", "", "the URL must start with http://"},
    {"ftp", "ftp://127.0.0.1/", "", "", "the URL must start with http://"},
    {"bare_unix_path", "unix:/tmp/b.sock", "", "", "the URL must start with http://"},
    {"hostname", "http://example.com/v1/pair-code", "", "", kHostError},
    {"service_name", "http://backend:8080", "", "", kHostError},
    {"localhost_dot", "http://localhost.:8080", "", "", kHostError},
    {"ipv4_out_of_range", "http://256.0.0.1/", "", "", kHostError},
    {"ipv4_short_form", "http://127.1/", "", "", kHostError},
    {"ipv4_leading_zero", "http://127.000.000.001/", "", "", kHostError},
    {"ipv6_without_brackets", "http://::1/", "", "", kHostError},
    {"ipv6_unterminated", "http://[::1:8080/", "", "", "unterminated IPv6 address"},
    {"ipv6_zone", "http://[fe80::1%25eth0]/", "", "", "invalid IPv6 address"},
    {"ipv6_junk_after", "http://[::1]x/", "", "",
     "invalid characters after the IPv6 address"},
    {"missing_host", "http://", "", "", "the host is missing"},
    {"missing_host_with_uri", "http:///v1/pair-code", "", "", "the host is missing"},
    {"port_zero", "http://127.0.0.1:0", "", "", "invalid port"},
    {"port_too_big", "http://127.0.0.1:65536", "", "", "invalid port"},
    {"port_empty", "http://127.0.0.1:/x", "", "", "invalid port"},
    {"port_letters", "http://127.0.0.1:http", "", "", "invalid port"},
    {"port_signed", "http://127.0.0.1:+80", "", "", "invalid port"},
    {"query_without_path", "http://127.0.0.1:8080?x=1", "", "",
     "the URI must start with /"},
    {"user_info", "http://user:pw@127.0.0.1/", "", "",
     "user information in the URL is not supported"},
    {"fragment", "http://127.0.0.1/v1/pair-code#x", "", "",
     "a fragment (#) is not allowed"},
    {"unix_relative_path", "http://unix:run/b.sock", "", "",
     "the unix socket path must be absolute"},
    {"unix_dot_relative_path", "http://unix:./b.sock", "", "",
     "the unix socket path must be absolute"},
    {"unix_missing_path", "http://unix:", "", "", "the unix socket path is missing"},
    {"unix_uri_without_slash", "http://unix:/tmp/b.sock:v1/pair-code", "", "",
     "the URI after the unix socket path must start with /"},
    {"unix_empty_uri", "http://unix:/tmp/b.sock:", "", "",
     "the URI after the unix socket path must start with /"},
    {"unix_query_in_path", "http://unix:/tmp/b.sock?x=1", "", "",
     "the unix socket path must not contain '?' or '#'"},
    {"unix_path_too_long", "http://unix:/" + std::string(107, 's'), "", "",
     "the unix socket path is too long"},
    {"space_inside", "http://127.0.0.1:8080/v1/pair code", "", "", kBadChars},
    {"leading_space", " http://127.0.0.1", "", "", kBadChars},
    {"trailing_newline", "http://127.0.0.1\n", "", "", kBadChars},
    {"control_char", "http://127.0.0.1/\x01", "", "", kBadChars},
    {"non_ascii", "http://127.0.0.1/p\xc3\xa9", "", "", kBadChars},
    {"nul", std::string("http://127.0.0.1/\0x", 19), "", "", kBadChars},
};

INSTANTIATE_TEST_SUITE_P(Table, BackendUrlParse, testing::ValuesIn(kUrls), RowName());

// The protocol's documented path applies when the URL has none; a URL's own path always wins.
TEST(BackendUrlDefault, ProtocolPathWhenAbsent)
{
    EXPECT_EQ(parse_backend_url("http://unix:/run/gowa.sock", "/app/login-with-code").url,
              "http://localhost/app/login-with-code");
    EXPECT_EQ(parse_backend_url("http://127.0.0.1:3000", "/api/default/auth/request-code").url,
              "http://127.0.0.1:3000/api/default/auth/request-code");
    EXPECT_EQ(parse_backend_url("http://127.0.0.1:3000/api/s1/auth/request-code",
                                "/api/default/auth/request-code").url,
              "http://127.0.0.1:3000/api/s1/auth/request-code");
    EXPECT_EQ(parse_backend_url("http://unix:/w.sock:/", "/session/pairphone").url,
              "http://localhost/");
}

TEST(BackendLogName, NeverTheQuery)
{
    EXPECT_EQ(backend_log_name(parse_backend_url("http://unix:/run/b.sock:/x?token=secret")),
              "unix:/run/b.sock:/x");
    EXPECT_EQ(backend_log_name(parse_backend_url("http://unix:/run/b.sock")),
              "unix:/run/b.sock:/v1/pair-code");
    EXPECT_EQ(backend_log_name(parse_backend_url("http://127.0.0.1:8080/a/b?apikey=k")),
              "http://127.0.0.1:8080/a/b");
    EXPECT_EQ(backend_log_name(parse_backend_url("http://[::1]")), "http://[::1]/v1/pair-code");
}

// ---------------------------------------------------------------------------------------------
// check_backend_url_template: a value with variables, at nginx -t

struct TemplateRow {
    const char* name;
    const char* value;
    const char* error;  // "" when accepted
};

void PrintTo(const TemplateRow& row, std::ostream* os) { *os << row.name; }

class BackendUrlTemplate : public testing::TestWithParam<TemplateRow> {};

TEST_P(BackendUrlTemplate, Checks)
{
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
    {"no_variable", "http://127.0.0.1/x", ""},
    {"https", "https://127.0.0.1/$x", "https is not supported: use http:// to a unix socket or a local address"},
    {"scheme_variable", "$scheme://127.0.0.1/x", "the URL must start with http://"},
    {"dns_name", "http://engine.internal:8080/api/$x", "the host must be an IP address or localhost (no DNS in a worker)"},
    {"relative_socket", "http://unix:run/$x.sock", "the unix socket path must be absolute"},
    {"space", "http://127.0.0.1/a $x", "the URL must not contain spaces, control characters or non-ASCII bytes"},
    {"user_info", "http://$user@127.0.0.1/", "user information in the URL is not supported"},
};

INSTANTIATE_TEST_SUITE_P(Table, BackendUrlTemplate, testing::ValuesIn(kTemplates), RowName());

// ---------------------------------------------------------------------------------------------
// wa_pair_backend_header: names and values

struct HeaderNameRow {
    const char* name;
    std::string header;
    const char* error;  // "" when accepted
};

void PrintTo(const HeaderNameRow& row, std::ostream* os) { *os << row.name; }

class HeaderName : public testing::TestWithParam<HeaderNameRow> {};

TEST_P(HeaderName, Checks) { EXPECT_EQ(check_header_name(GetParam().header), GetParam().error); }

constexpr const char* kNotToken = "the header name must be an HTTP token";

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

TEST(HeaderValue, RefusesWhatCouldSplitTheRequest)
{
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

TEST(UrlEscape, KeepsOnlyTheSafeSet)
{
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

namespace wa_pair {
namespace {

// split_url: what parse_backend_url gives, in the Host header's and the request line's parts.
TEST(SplitUrl, AuthorityAndTarget)
{
    for (const auto& [url, authority, target] : std::vector<std::array<std::string, 3>>{
             {"http://localhost/v1/pair-code", "localhost", "/v1/pair-code"},
             {"http://127.0.0.1:8080/v1/pair-code?k=v&x=1", "127.0.0.1:8080", "/v1/pair-code?k=v&x=1"},
             {"http://[::1]:9000/", "[::1]:9000", "/"},
             {"http://localhost", "localhost", "/"},
         }) {
        const UrlParts parts = split_url(url);
        EXPECT_EQ(parts.authority, authority) << url;
        EXPECT_EQ(parts.target, target) << url;
    }
    // Every URL parse_backend_url accepts splits into its own authority and URI.
    const BackendUrl tcp = parse_backend_url("http://127.0.0.1:8081/api/x?q=1");
    EXPECT_EQ(split_url(tcp.url).authority, "127.0.0.1:8081");
    EXPECT_EQ(split_url(tcp.url).target, "/api/x?q=1");
    const BackendUrl unix_url = parse_backend_url("http://unix:/run/b.sock:/v1/pair-code");
    EXPECT_EQ(split_url(unix_url.url).authority, "localhost");
    EXPECT_EQ(split_url(unix_url.url).target, "/v1/pair-code");
}

}  // namespace
}  // namespace wa_pair
