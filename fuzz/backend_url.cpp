// Fuzz target: the wa_pair_backend URL (parse_backend_url). What it yields goes to libcurl
// as CURLOPT_URL and CURLOPT_UNIX_SOCKET_PATH, so it must never carry a space, a control
// character or a byte outside ASCII (no header or request-line injection).
#include <cstdint>
#include <string>

#include "backend.hpp"
#include "check.hpp"

using namespace wa_pair;
using namespace wa_pair_fuzz;

namespace {

bool clean(std::string_view s)
{
    for (char c : s) {
        if (c <= 0x20 || c >= 0x7f) return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string_view value(reinterpret_cast<const char*>(data), size);
    const BackendUrl url = parse_backend_url(value);
    if (!url.error.empty()) {
        FUZZ_CHECK(printable(url.error, 200), url.error);  // nginx -t prints it
        return 0;
    }
    FUZZ_CHECK(url.url.rfind("http://", 0) == 0, url.url);
    FUZZ_CHECK(clean(url.url) && clean(url.unix_socket), url.url + " " + url.unix_socket);
    FUZZ_CHECK(url.url.find('#') == std::string::npos, url.url);
    if (!url.unix_socket.empty()) {
        FUZZ_CHECK(url.unix_socket[0] == '/' && url.unix_socket.size() < 108, url.unix_socket);
        FUZZ_CHECK(url.url.rfind("http://localhost/", 0) == 0, url.url);
    }
    // The path part after the authority starts with '/'.
    const std::size_t slash = url.url.find('/', 7);
    FUZZ_CHECK(slash != std::string::npos, url.url);
    return 0;
}
