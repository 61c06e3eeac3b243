// Phone normalisation (README.md, "What a client gets").
#pragma once

#include <string>
#include <string_view>

#include "common/failure.hpp"

namespace wa_pair {

struct PhoneResult {
    std::string digits;  // E.164 digits without '+', set when !failure
    Failure failure;     // code 400 with a specific text otherwise
};

// Trims ASCII whitespace, removes ' ', '-', '(', ')', '.', drops one leading '+' or a leading
// "00", then checks: not empty, digits only, no leading 0, 7 to 15 digits.
PhoneResult normalize_phone(std::string_view raw) noexcept;

// For logs: "62812****890" (first 5 and last 3 digits from 12 digits on, first 3 and last 2
// from 9 to 11, so at least four stay hidden). Shorter input, or not digits only, is "****".
std::string mask_phone(std::string_view digits) noexcept;

}  // namespace wa_pair
