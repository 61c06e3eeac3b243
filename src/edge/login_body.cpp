// The login-code request body: Content-Type -> body type, body -> normalised phone.
#include "edge/login_body.hpp"
#include "common/ascii.hpp"

#include <set>

#include "common/form.hpp"
#include "common/json_scan.hpp"
#include "edge/phone.hpp"

namespace wa_pair {

namespace {

constexpr std::string_view kUnsupported = "Content-Type must be application/json or application/x-www-form-urlencoded";
constexpr std::string_view kNotJson = "Request body is not valid JSON";
constexpr std::string_view kNotObject = "Request body must be a JSON object";
constexpr std::string_view kNotForm = "Request body is not a valid form";
constexpr std::string_view kPhoneRequired = "Phone number is required";
constexpr std::string_view kPhoneNotString = "Phone number must be a string";
constexpr std::string_view kRefreshNotBool = "Field refresh must be a boolean";

bool is_blank(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
}

using ascii::iequals;
using ascii::lower;

LoginRequest fail(int code, std::string_view text) {
    LoginRequest request;
    request.failure = Failure{code, std::string(text)};
    return request;
}

// The fields as found in the body, before any check of their values.
struct Fields {
    bool has_phone = false;
    bool phone_is_string = false;  // JSON: the value is a string (form values always are)
    std::string phone;
    bool has_refresh = false;
    bool refresh_is_bool = false;
    bool refresh = false;
};

LoginRequest finish(const Fields &fields) {
    if (!fields.has_phone) return fail(400, kPhoneRequired);
    if (!fields.phone_is_string) return fail(400, kPhoneNotString);
    PhoneResult phone = normalize_phone(fields.phone);
    if (phone.failure) {
        LoginRequest request;
        request.failure = std::move(phone.failure);
        return request;
    }
    if (fields.has_refresh && !fields.refresh_is_bool) return fail(400, kRefreshNotBool);

    LoginRequest request;
    request.phone = std::move(phone.digits);
    request.refresh = fields.refresh;
    return request;
}

LoginRequest parse_json_body(std::string_view body) {
    JsonObject object;
    switch (scan_json_object(body, object)) {
    case JsonScan::invalid:
        return fail(400, kNotJson);
    case JsonScan::not_object:
        return fail(400, kNotObject);
    case JsonScan::object:
        break;
    }

    Fields fields;
    if (const JsonValue *phone = object.find("phone"); phone != nullptr && !phone->is_null()) {
        // null is the phone left empty by a client, the same as leaving it out
        fields.has_phone = true;
        fields.phone_is_string = phone->is_string();
        if (fields.phone_is_string) fields.phone = phone->string();
    }
    if (const JsonValue *refresh = object.find("refresh"); refresh != nullptr) {
        fields.has_refresh = true;
        fields.refresh_is_bool = refresh->kind == JsonKind::boolean;
        if (fields.refresh_is_bool) fields.refresh = refresh->boolean;
    }
    return finish(fields);
}

LoginRequest parse_form_body(std::string_view body) {
    Fields fields;
    std::set<std::string> seen;
    std::string name;
    std::string value;
    while (!body.empty()) {
        const std::size_t amp = body.find('&');
        const std::string_view pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
        if (pair.empty()) continue;  // "a=1&&b=2"

        const std::size_t eq = pair.find('=');
        const std::string_view raw_value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
        std::optional<std::string> decoded_name = form_decode(pair.substr(0, eq));
        std::optional<std::string> decoded_value = form_decode(raw_value);
        if (!decoded_name || !decoded_value) return fail(400, kNotForm);
        name = std::move(*decoded_name);
        value = std::move(*decoded_value);
        if (!seen.insert(name).second) return fail(400, kNotForm);

        if (name == "phone") {
            fields.has_phone = true;
            fields.phone_is_string = true;
            fields.phone = value;
        } else if (name == "refresh") {
            fields.has_refresh = true;
            fields.refresh_is_bool = value == "true" || value == "false";
            fields.refresh = value == "true";
        }
    }
    return finish(fields);
}

}  // namespace

BodyType classify_content_type(std::string_view content_type) noexcept {
    if (content_type == "application/json") return BodyType::json;  // what clients send
    content_type = trim(content_type);
    if (content_type.empty()) return BodyType::json;

    const std::string_view media = trim(content_type.substr(0, content_type.find(';')));
    if (iequals(media, "application/json")) return BodyType::json;
    if (iequals(media, "application/x-www-form-urlencoded")) return BodyType::form;

    // application/<something>+json, e.g. application/vnd.api+json
    constexpr std::string_view prefix = "application/";
    constexpr std::string_view suffix = "+json";
    if (media.size() > prefix.size() + suffix.size() && iequals(media.substr(0, prefix.size()), prefix) &&
        iequals(media.substr(media.size() - suffix.size()), suffix) &&
        media.find('/', prefix.size()) == std::string_view::npos) {
        return BodyType::json;
    }
    return BodyType::unsupported;
}

LoginRequest parse_login_body(BodyType type, std::string_view body) noexcept {
    try {
        if (type == BodyType::unsupported) return fail(415, kUnsupported);
        const std::string_view trimmed = trim(body);
        if (trimmed.empty()) return fail(400, kPhoneRequired);
        // curl's -d sends a form type whatever the data: a form body cannot start with '{',
        // so a JSON object under a form type is read as JSON, as the person meant it.
        if (type == BodyType::form && trimmed.front() != '{') return parse_form_body(body);
        return parse_json_body(body);
    } catch (...) {
        LoginRequest request;
        request.failure.code = 500;
        request.failure.error.assign(kInternalError);  // noexcept ends the worker if this throws
        return request;
    }
}

}  // namespace wa_pair
