// Fuzz target: phone normalisation and masking on any bytes.
#include <cstdint>
#include <string>

#include "check.hpp"
#include "edge/phone.hpp"

using namespace wa_pair;
using namespace wa_pair_fuzz;

namespace {

std::string digits_of(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c >= '0' && c <= '9') out += c;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view raw(reinterpret_cast<const char *>(data), size);
    const PhoneResult result = normalize_phone(raw);

    if (result.failure) {
        FUZZ_CHECK(result.failure.code == 400, result.failure.error);
        FUZZ_CHECK(result.failure.error == "Phone number is required" ||
                       result.failure.error == "Phone number must contain digits only" ||
                       result.failure.error == "Phone number must start with the country code, not 0" ||
                       result.failure.error == "Phone number must have 7 to 15 digits",
                   result.failure.error);
        FUZZ_CHECK(result.digits.empty(), result.digits);
        check_error_envelope(400, result.failure.error);
    } else {
        const std::string &d = result.digits;
        FUZZ_CHECK(d.size() >= 7 && d.size() <= 15 && all_digits(d) && d[0] != '0', d);
        // Only separators, one '+' or a leading "00" were removed: no digit was made up or lost.
        const std::string all = digits_of(raw);
        FUZZ_CHECK(all == d || all == "00" + d, d);
    }

    // Masking any text: never longer than the input's digits allow, at least four hidden.
    const std::string masked = mask_phone(raw);
    FUZZ_CHECK(!masked.empty(), raw);
    FUZZ_CHECK(masked.find("****") != std::string::npos, masked);
    if (masked != "****") {
        FUZZ_CHECK(all_digits(raw) && raw.size() >= 9, raw);
        FUZZ_CHECK(digits_of(masked).size() + 4 <= raw.size(), masked);
    }
    return 0;
}
