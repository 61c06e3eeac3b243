// Invariant checks shared by the fuzz targets. A violated invariant prints what was expected
// and aborts, which libFuzzer reports as a crash and saves the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "edge/envelope.hpp"

namespace wa_pair_fuzz {

[[noreturn]] inline void violated(const char *what, std::string_view detail = {}) {
    std::fprintf(stderr, "INVARIANT VIOLATED: %s: %.*s\n", what,
                 static_cast<int>(detail.size() > 400 ? 400 : detail.size()), detail.data());
    std::abort();
}

#define FUZZ_CHECK(cond, detail)                                \
    do {                                                        \
        if (!(cond)) ::wa_pair_fuzz::violated(#cond, (detail)); \
    } while (0)

// 1..max bytes of 0x20..0x7e: what an `error` text of ours must be.
inline bool printable(std::string_view s, std::size_t max = 200) {
    if (s.empty() || s.size() > max) return false;
    for (char c : s) {
        if (c < 0x20 || c > 0x7e) return false;
    }
    return true;
}

inline bool all_digits(std::string_view s) {
    for (char c : s) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

// WhatsApp's pairing code alphabet, as XXXX-XXXX.
inline bool is_pair_code(std::string_view s) {
    constexpr std::string_view alphabet = "123456789ABCDEFGHJKLMNPQRSTVWXYZ";
    if (s.size() != 9 || s[4] != '-') return false;
    for (std::size_t i = 0; i < 9; ++i) {
        if (i != 4 && alphabet.find(s[i]) == std::string_view::npos) return false;
    }
    return true;
}

// The envelope is JSON (parsed by nlohmann, an independent parser), keys in the contract's
// order, and says what it was built from.
inline void check_error_envelope(int code, std::string_view error) {
    const std::optional<std::string> envelope = wa_pair::error_envelope(code, error);
    FUZZ_CHECK(envelope.has_value(), error);
    const std::string &text = *envelope;
    const auto j = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
    FUZZ_CHECK(!j.is_discarded() && j.is_object(), text);
    FUZZ_CHECK(j.size() == 4, text);
    auto it = j.begin();
    FUZZ_CHECK(it.key() == "status" && it.value() == false, text);
    ++it;
    FUZZ_CHECK(it.key() == "code" && it.value() == code, text);
    ++it;
    FUZZ_CHECK(it.key() == "message" && it.value() == std::string(wa_pair::status_message(code)), text);
    ++it;
    FUZZ_CHECK(it.key() == "error" && it.value().is_string(), text);
    if (printable(error, error.size() + 1)) {
        FUZZ_CHECK(it.value() == std::string(error), text);  // printable ASCII round-trips
    }
}

inline void check_success_envelope(std::string_view pair_code, long timeout) {
    const std::optional<std::string> envelope = wa_pair::success_envelope(pair_code, timeout);
    FUZZ_CHECK(envelope.has_value(), pair_code);
    const std::string &text = *envelope;
    const auto j = nlohmann::ordered_json::parse(text, nullptr, false);
    FUZZ_CHECK(!j.is_discarded() && j.is_object() && j.size() == 4, text);
    auto it = j.begin();
    FUZZ_CHECK(it.key() == "status" && it.value() == true, text);
    FUZZ_CHECK((++it).key() == "code" && it.value() == 200, text);
    FUZZ_CHECK((++it).key() == "message" && it.value() == std::string(wa_pair::status_message(200)), text);
    FUZZ_CHECK((++it).key() == "data" && it.value().is_object(), text);
    const auto &data = it.value();
    FUZZ_CHECK(data.size() == 2 && data.begin().key() == "pair_code", text);
    FUZZ_CHECK(data["pair_code"] == std::string(pair_code), text);
    FUZZ_CHECK(data["timeout"] == timeout, text);
}

// A failure an engine's answer became (a wa_pair::PairCode): one of the contract's codes for
// a backend's answer, no code, our own short printable text, a Retry-After in range.
template <class Answer>
void check_engine_failure(const Answer &pc) {
    const int code = pc.failure.code;
    FUZZ_CHECK(code == 400 || code == 401 || code == 409 || code == 429 || code == 500 || code == 502 || code == 503 ||
                   code == 504,
               pc.failure.error);
    // An engine's text reaches the client only as short printable ASCII, never raw.
    FUZZ_CHECK(printable(pc.failure.error, 200), pc.failure.error);
    FUZZ_CHECK(pc.code.empty(), pc.code);
    if (pc.has_retry_after) FUZZ_CHECK(pc.retry_after >= 0 && pc.retry_after <= 86400, pc.failure.error);
    check_error_envelope(code, pc.failure.error);
}

}  // namespace wa_pair_fuzz
