// Fuzz target: the native protocol's backend answer -> the client's envelope
// (map_backend_answer, format_pair_code, map_transport_failure).
// Input: bytes 0-1 the HTTP status (0..699), byte 2 the configured default timeout, then the
// Retry-After value up to the first '\n', then the body.
#include <cstdint>
#include <string>

#include "backend/protocol.hpp"
#include "check.hpp"

using namespace wa_pair;
using namespace wa_pair_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    const long status = ((data[0] << 8) | data[1]) % 700;
    static constexpr long kDefaults[] = {120, 1, 86400, 60};
    const long default_timeout = kDefaults[data[2] & 3];
    std::string_view in(reinterpret_cast<const char *>(data) + 3, size - 3);
    const std::size_t nl = in.find('\n');
    const std::string_view retry_after = in.substr(0, nl);
    const std::string_view body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);

    const PairCode pc = map_backend_answer(status, body, retry_after, default_timeout);

    if (pc.failure) {
        const int code = pc.failure.code;
        int expected = 502;
        if (status == 200)
            expected = 502;
        else if (status == 409)
            expected = 409;
        else if (status == 429)
            expected = 429;
        else if (status >= 400 && status <= 499)
            expected = 400;
        else if (status >= 500 && status <= 599)
            expected = 500;
        FUZZ_CHECK(code == expected, pc.failure.error);
        // The engine's text reaches the client only as short printable ASCII.
        FUZZ_CHECK(printable(pc.failure.error, 200), pc.failure.error);
        FUZZ_CHECK(pc.code.empty(), pc.code);
        if (code == 429) FUZZ_CHECK(pc.retry_after >= 0 && pc.retry_after <= 86400, retry_after);
        check_error_envelope(code, pc.failure.error);
        return 0;
    }

    FUZZ_CHECK(status == 200, body);
    FUZZ_CHECK(is_pair_code(pc.code), pc.code);
    FUZZ_CHECK(pc.timeout >= 1 && pc.timeout <= 86400, body);
    check_success_envelope(pc.code, pc.timeout);

    // An independent reading of the answer agrees on the code and the timeout.
    const auto j = nlohmann::json::parse(body, nullptr, false);
    FUZZ_CHECK(j.is_object() && j.contains("pair_code") && j["pair_code"].is_string(), body);
    std::string sent = j["pair_code"].get<std::string>();
    if (sent.size() == 9) sent.erase(4, 1);
    std::string got = pc.code;
    got.erase(4, 1);
    FUZZ_CHECK(sent == got, body);
    const auto t = j.find("timeout");
    FUZZ_CHECK(
        t == j.end() || t->is_null() ? pc.timeout == default_timeout : t->is_number_unsigned() && *t == pc.timeout,
        body);

    for (auto kind : {TransportFailure::unreachable, TransportFailure::timeout, TransportFailure::bad_answer,
                      TransportFailure::too_large}) {
        const PairCode f = map_transport_failure(kind);
        FUZZ_CHECK(f.failure.code == 503 || f.failure.code == 504 || f.failure.code == 502, f.failure.error);
    }
    return 0;
}
