// Phone normalisation (README.md, "What a client gets"). People type "+62 812-3456-7890"; the backend
// only ever receives E.164 digits.
#include "edge/phone.hpp"

#include "common/ascii.hpp"

namespace wa_pair {

namespace {

constexpr std::string_view kRequired = "Phone number is required";
constexpr std::string_view kDigitsOnly = "Phone number must contain digits only";
constexpr std::string_view kLeadingZero = "Phone number must start with the country code, not 0";
constexpr std::string_view kLength = "Phone number must have 7 to 15 digits";

// E.164 allows 15 digits; whatsmeow rejects 6 or fewer.
constexpr std::size_t kMinDigits = 7;
constexpr std::size_t kMaxDigits = 15;

bool is_ascii_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_separator(char c) noexcept {
    return c == ' ' || c == '-' || c == '(' || c == ')' || c == '.';
}

using ascii::is_digit;

PhoneResult fail(std::string_view text) {
    PhoneResult result;
    result.failure = Failure{400, std::string(text)};
    return result;
}

}  // namespace

PhoneResult normalize_phone(std::string_view raw) noexcept {
    try {
        while (!raw.empty() && is_ascii_space(raw.front())) raw.remove_prefix(1);
        while (!raw.empty() && is_ascii_space(raw.back())) raw.remove_suffix(1);

        std::string digits;
        digits.reserve(raw.size());
        for (char c : raw) {
            if (!is_separator(c)) digits += c;
        }
        if (!digits.empty() && digits[0] == '+') {
            digits.erase(0, 1);
        } else if (digits.compare(0, 2, "00") == 0) {
            digits.erase(0, 2);
        }

        if (digits.empty()) return fail(kRequired);
        for (char c : digits) {
            if (!is_digit(c)) return fail(kDigitsOnly);
        }
        if (digits[0] == '0') return fail(kLeadingZero);
        if (digits.size() < kMinDigits || digits.size() > kMaxDigits) return fail(kLength);

        PhoneResult result;
        result.digits = std::move(digits);
        return result;
    } catch (...) {
        PhoneResult result;
        result.failure.code = 500;
        // Memory is exhausted: if even this text cannot be allocated, noexcept ends the
        // worker instead of unwinding into nginx.
        result.failure.error.assign(kInternalError);
        return result;
    }
}

std::string mask_phone(std::string_view digits) noexcept {
    try {
        bool all_digits = true;
        for (char c : digits) all_digits = all_digits && is_digit(c);
        if (digits.size() < 9 || !all_digits) return "****";
        // At least four digits stay hidden: 5 + 3 shown from 12 digits on, 3 + 2 below.
        size_t head = digits.size() >= 12 ? 5 : 3;
        size_t tail = digits.size() >= 12 ? 3 : 2;
        std::string masked(digits.substr(0, head));
        masked += "****";
        masked += digits.substr(digits.size() - tail);
        return masked;
    } catch (...) {
        return {};
    }
}

}  // namespace wa_pair
