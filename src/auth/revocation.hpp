// Token revocation by version (wa_pair_jwt_revocation_file): the origin revokes a device's
// tokens by raising its version; a token below the device's minimum version is refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace wa_pair {

class Revocations {
public:
    // True unless the device is listed and the token's version is missing or lower than the
    // listed minimum.
    bool allows(std::string_view device_id, std::optional<std::uint64_t> version) const;

    std::size_t size() const noexcept { return minimum_.size(); }

private:
    friend struct RevocationFile parse_revocation_file(std::string_view text) noexcept;
    std::unordered_map<std::string, std::uint64_t> minimum_;
};

struct RevocationFile {
    Revocations list;
    std::string error;  // empty: read; else "line N: why"
};

// One "<device-id> <minimum-version>" a line ('#' comment lines, blank lines). The version
// is decimal digits (0 to 2^64-1); a device listed twice is refused. An empty file is no error.
RevocationFile parse_revocation_file(std::string_view text) noexcept;

}  // namespace wa_pair
