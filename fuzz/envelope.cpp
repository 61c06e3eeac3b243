// Fuzz target: the envelope's JSON string escaping (append_json_string, error_envelope) on any
// bytes, e.g. an engine's text or a claim: the result is always JSON that an independent
// parser reads back, valid UTF-8 survives unchanged, and nothing raw ends a line.
#include <cstdint>
#include <string>

#include "check.hpp"

using namespace wa_pair;
using namespace wa_pair_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    std::string quoted;
    append_json_string(quoted, text);

    const auto j = nlohmann::json::parse(quoted, nullptr, false);
    FUZZ_CHECK(!j.is_discarded() && j.is_string(), quoted);
    for (unsigned char c : quoted) FUZZ_CHECK(c >= 0x20 && c != 0x7f, quoted);
    FUZZ_CHECK(quoted.find("\xe2\x80\xa8") == std::string::npos && quoted.find("\xe2\x80\xa9") == std::string::npos,
               quoted);

    bool valid_utf8 = true;
    try {
        (void)nlohmann::json(std::string(text)).dump();  // throws on invalid UTF-8
    } catch (const nlohmann::json::type_error &) {
        valid_utf8 = false;
    }
    if (valid_utf8) FUZZ_CHECK(j.get<std::string>() == text, quoted);

    const int code = size > 0 ? 100 + data[0] % 500 : 400;
    check_error_envelope(code, text);
    return 0;
}
