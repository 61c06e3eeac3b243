// Fuzz target: the wa_pair_backend URL (parse_backend_url, backend_log_name,
// check_backend_url_template). What it yields goes to nginx's upstream (the address), into the
// request line (the URI) and the Host header, and into the error log, so none of it may carry a
// space, a control character or a byte outside ASCII; the log name never shows the query.
#include <cstdint>
#include <string>

#include "common/ascii.hpp"
#include "backend/backend.hpp"
#include "check.hpp"

using namespace wa_pair;
using namespace wa_pair_fuzz;

namespace {

bool clean(std::string_view s) {
    for (char c : s) {
        if (c <= 0x20 || c >= 0x7f) return false;
    }
    return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && ascii::iequals(s.substr(0, prefix.size()), prefix);
}

std::string describe(const BackendUrl &url) {
    return (url.tls ? "tls " : "") + url.address + " host=" + url.host + " uri=" + url.uri +
           (url.has_uri ? " (own)" : "") + " error=" + url.error;
}

bool same(const BackendUrl &a, const BackendUrl &b) {
    return a.tls == b.tls && a.address == b.address && a.host == b.host && a.uri == b.uri && a.has_uri == b.has_uri &&
           a.error == b.error;
}

void check(std::string_view value, const BackendUrl &url, std::string_view default_uri) {
    const std::string detail = std::string(value) + " -> " + describe(url);
    if (!url.error.empty()) {
        FUZZ_CHECK(printable(url.error, 200), url.error);  // nginx -t prints it
        FUZZ_CHECK(!url.tls && url.address.empty() && url.host.empty() && url.uri.empty() && !url.has_uri, detail);
        return;
    }
    FUZZ_CHECK(!url.address.empty() && !url.host.empty(), detail);
    FUZZ_CHECK(clean(url.address) && clean(url.host) && clean(url.uri), detail);
    FUZZ_CHECK((url.address + url.host + url.uri).find('#') == std::string::npos, detail);
    FUZZ_CHECK(url.tls == istarts_with(value, "https://"), detail);

    // The URI: the value's own (a '/' and the rest of the value, as written), else default_uri.
    if (url.has_uri) {
        FUZZ_CHECK(url.uri[0] == '/', detail);
        FUZZ_CHECK(value.size() > url.uri.size() && value.substr(value.size() - url.uri.size()) == url.uri, detail);
    } else {
        FUZZ_CHECK(url.uri == default_uri, detail);
    }
    FUZZ_CHECK(url.uri.empty() ? default_uri.empty() : url.uri[0] == '/', detail);

    const std::size_t scheme = url.tls ? 8 : 7;
    if (url.address.rfind("unix:", 0) == 0) {
        const std::string_view path = std::string_view(url.address).substr(5);
        FUZZ_CHECK(!path.empty() && path[0] == '/' && path.size() <= 107, detail);
        FUZZ_CHECK(path.find_first_of("?#") == std::string_view::npos, detail);
        FUZZ_CHECK(url.host == "localhost", detail);
        FUZZ_CHECK(istarts_with(value.substr(scheme), url.address), detail);
    } else {
        // The authority as written, right after the scheme: no path, query, user or fragment.
        FUZZ_CHECK(url.host == url.address, detail);
        FUZZ_CHECK(url.address.find_first_of("/?#@") == std::string::npos, detail);
        FUZZ_CHECK(value.substr(scheme, url.address.size()) == url.address, detail);
        FUZZ_CHECK(scheme + url.address.size() + (url.has_uri ? url.uri.size() : 0) == value.size(), detail);
    }

    // What it names is what it parses to again, written the canonical way.
    std::string again = url.tls ? "https://" : "http://";
    again += url.address;
    if (url.has_uri) {
        if (url.address.rfind("unix:", 0) == 0) again += ':';
        again += url.uri;
    }
    const BackendUrl reparsed = parse_backend_url(again, default_uri);
    FUZZ_CHECK(same(url, reparsed), detail + " / " + again + " -> " + describe(reparsed));

    const std::string name = backend_log_name(url);
    FUZZ_CHECK(clean(name) && name.find('?') == std::string::npos, name);
    FUZZ_CHECK(name.find(url.address) != std::string::npos, detail + " / " + name);
    FUZZ_CHECK(url.tls ? name.rfind("https://", 0) == 0 : name.rfind("unix:", 0) == 0 || name.rfind("http://", 0) == 0,
               detail + " / " + name);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view value(reinterpret_cast<const char *>(data), size);
    const BackendUrl url = parse_backend_url(value);
    check(value, url, "/v1/pair-code");

    // With no default (the caller fills in the protocol's path), only the URI may differ.
    const BackendUrl bare = parse_backend_url(value, "");
    check(value, bare, "");
    FUZZ_CHECK(bare.error == url.error && bare.address == url.address && bare.host == url.host && bare.tls == url.tls &&
                   bare.has_uri == url.has_uri,
               describe(url) + " / " + describe(bare));
    FUZZ_CHECK(!url.has_uri || bare.uri == url.uri, describe(url) + " / " + describe(bare));

    // Without variables, nginx -t's check of a template is the parser's own verdict.
    if (value.find('$') == std::string_view::npos) {
        FUZZ_CHECK(check_backend_url_template(value) == url.error, std::string(value) + " -> " + url.error);
    }
    return 0;
}
