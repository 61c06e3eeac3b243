// application/x-www-form-urlencoded, as a client's login body and wuzapi's webhooks send it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wa_pair {

// One name or value decoded: '+' is a space, %XX a byte (either case). Empty when a '%' is not
// followed by two hexadecimal digits. Throws only std::bad_alloc.
std::optional<std::string> form_decode(std::string_view in);

}  // namespace wa_pair
