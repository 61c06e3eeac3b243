// The request body of POST /devices/me/login-code: JSON object or urlencoded form.
#pragma once

#include <string>
#include <string_view>

#include "common/failure.hpp"

namespace wa_pair {

enum class BodyType { json, form, unsupported };

// Content-Type value (parameters such as charset ignored, case-insensitive).
// Absent/empty -> json (the doc's curl always sends JSON; tools that omit it mean JSON).
// application/json, application/*+json -> json; application/x-www-form-urlencoded -> form;
// anything else (text/plain, multipart/form-data, a bare ";charset=utf-8") -> unsupported.
BodyType classify_content_type(std::string_view content_type) noexcept;

struct LoginRequest {
    std::string phone;     // normalised digits
    bool refresh = false;  // "refresh": true, a new code even when one is live (docs/edge-policy.md)
    Failure failure;       // 400 / 415 with a specific text
};

// A JSON object {"phone":"...","refresh":true} or a form "phone=...&refresh=true" (form
// refresh is "true" or "false"). Unknown fields are ignored; a repeated field is refused
// (it could be read two ways). An empty body means the phone is missing. A form-typed body
// whose first non-blank byte is '{' is read as JSON (curl's -d without a Content-Type).
LoginRequest parse_login_body(BodyType type, std::string_view body) noexcept;

}  // namespace wa_pair
