// Fuzz target: the request body (Content-Type -> body type, JSON or form -> phone).
// Input: byte 0 picks the Content-Type (JSON, form, absent, or the input's first line), the
// rest is the body.
#include <cstdint>
#include <string>

#include "check.hpp"
#include "edge/login_body.hpp"
#include "edge/phone.hpp"

using namespace wa_pair;
using namespace wa_pair_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    std::string_view in(reinterpret_cast<const char *>(data) + 1, size - 1);
    std::string_view content_type;
    switch (data[0] & 3) {
    case 0:
        content_type = "application/json";
        break;
    case 1:
        content_type = "application/x-www-form-urlencoded";
        break;
    case 2:
        content_type = "";
        break;
    default: {
        const std::size_t nl = in.find('\n');
        content_type = in.substr(0, nl);
        in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    }
    }
    const BodyType type = classify_content_type(content_type);
    const LoginRequest req = parse_login_body(type, in);

    if (req.failure) {
        // Only 400 and 415 (500 is reserved for memory exhaustion), always with a human text.
        FUZZ_CHECK(req.failure.code == 400 || req.failure.code == 415, req.failure.error);
        FUZZ_CHECK((req.failure.code == 415) == (type == BodyType::unsupported), req.failure.error);
        FUZZ_CHECK(printable(req.failure.error), req.failure.error);
        FUZZ_CHECK(req.phone.empty(), req.phone);
        check_error_envelope(req.failure.code, req.failure.error);
        return 0;
    }

    // A phone the backend may receive: E.164 digits, and normalising it again changes nothing.
    FUZZ_CHECK(req.phone.size() >= 7 && req.phone.size() <= 15, req.phone);
    FUZZ_CHECK(all_digits(req.phone) && req.phone[0] != '0', req.phone);
    const PhoneResult again = normalize_phone(req.phone);
    FUZZ_CHECK(!again.failure && again.digits == req.phone, req.phone);
    const std::string masked = mask_phone(req.phone);
    FUZZ_CHECK(masked.find("****") != std::string::npos, masked);
    FUZZ_CHECK(masked.find(req.phone) == std::string::npos, masked);

    const size_t first = in.find_first_not_of(" \t\r\n");
    const bool json_under_form = type == BodyType::form && first != std::string_view::npos && in[first] == '{';
    if (type == BodyType::json || json_under_form) {
        // An independent reading (nlohmann without our limits) agrees on the phone; a form-typed
        // body that starts with '{' is read as JSON too.
        const auto j = nlohmann::json::parse(in, nullptr, false);
        FUZZ_CHECK(!j.is_discarded() && j.is_object(), in);
        const auto phone = j.find("phone");
        FUZZ_CHECK(phone != j.end() && phone->is_string(), in);
        const PhoneResult independent = normalize_phone(phone->get<std::string>());
        FUZZ_CHECK(!independent.failure && independent.digits == req.phone, in);
    }
    return 0;
}
