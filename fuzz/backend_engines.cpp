// Fuzz target: the answers of the engine adapters (origin, GoWA, WAHA, wuzapi, Evolution) ->
// the client's envelope (map_answer). The native protocol has its own target, whose table of
// statuses is exact; here the invariants are the ones every adapter owes the client.
// Input: byte 0 picks the engine, bytes 1-2 the HTTP status (0..699), then the Retry-After
// value up to the first '\n', then the body.
#include <cstdint>
#include <string>

#include "check.hpp"
#include "backend/protocol.hpp"

using namespace wa_pair;
using namespace wa_pair_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    static constexpr Protocol kEngines[] = {Protocol::origin, Protocol::gowa, Protocol::waha, Protocol::wuzapi,
                                            Protocol::evolution};
    const Protocol protocol = kEngines[data[0] % 5];
    const long status = ((data[1] << 8) | data[2]) % 700;
    std::string_view in(reinterpret_cast<const char *>(data) + 3, size - 3);
    const std::size_t nl = in.find('\n');
    const std::string_view retry_after = in.substr(0, nl);
    const std::string_view body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);

    const PairCode pc = map_answer(protocol, status, body, retry_after, 120);

    if (pc.failure) {
        const int code = pc.failure.code;
        check_engine_failure(pc);
        // A warning is a session that waits for its operator: a 503 that no retry can help.
        FUZZ_CHECK((pc.log_level == LogLevel::warn) == (code == 503 && !pc.has_retry_after), body);
        FUZZ_CHECK(pc.log_level != LogLevel::error || code >= 500, body);
        return 0;
    }
    // Success only from a 2xx, with a code in WhatsApp's alphabet.
    FUZZ_CHECK(status >= 200 && status <= 299, body);
    FUZZ_CHECK(is_pair_code(pc.code), pc.code);
    FUZZ_CHECK(pc.timeout >= 1 && pc.timeout <= 86400, body);
    // Never more than the engine's code lives (120 is wa_pair_code_timeout here).
    FUZZ_CHECK(pc.timeout <= max_code_seconds(protocol), body);
    check_success_envelope(pc.code, pc.timeout);
    return 0;
}
