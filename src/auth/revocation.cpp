// The revocation file and the version check.
#include "auth/revocation.hpp"

#include <vector>

#include "jose/jwt.hpp"
#include "auth/line_file.hpp"

namespace wa_pair {

namespace {

std::optional<std::uint64_t> parse_version(std::string_view s) noexcept {
    if (s.empty() || s.size() > 20) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
        if (v > (UINT64_MAX - digit) / 10) return std::nullopt;
        v = v * 10 + digit;
    }
    return v;
}

}  // namespace

bool Revocations::allows(std::string_view device_id, std::optional<std::uint64_t> version) const {
    const auto it = minimum_.find(std::string(device_id));
    if (it == minimum_.end()) return true;
    return version && *version >= it->second;
}

RevocationFile parse_revocation_file(std::string_view text) noexcept {
    RevocationFile result;
    try {
        result.error = for_each_record(text, [&](std::size_t, const std::vector<std::string_view> &f) -> std::string {
            if (f.size() != 2) return "expected \"<device-id> <minimum-version>\"";
            if (!is_identifier(f[0])) return "the device id is not 1..128 printable ASCII characters";
            const std::optional<std::uint64_t> minimum = parse_version(f[1]);
            if (!minimum) {
                return "the minimum version is not a non-negative integer";
            }
            if (!result.list.minimum_.emplace(std::string(f[0]), *minimum).second) {
                return "a device listed twice";
            }
            return {};
        });
    } catch (...) {
        result.error = "out of memory";
    }
    if (!result.error.empty()) result.list.minimum_.clear();
    return result;
}

}  // namespace wa_pair
