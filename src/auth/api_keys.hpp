// API keys (wa_pair_api_keys_file): the SHA-256 of each key and the device it belongs to.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace wa_pair {

class ApiKeys {
public:
    struct Entry {
        std::array<unsigned char, 32> hash;
        std::string device_id;
    };

    // The device of `key`, or nullptr. The key is hashed and its hash compared with every
    // entry with CRYPTO_memcmp, matched or not: the time taken does not depend on which
    // entry (if any) matched.
    const std::string *find(std::string_view key) const noexcept;

    const std::vector<Entry> &entries() const noexcept { return entries_; }

private:
    friend struct ApiKeysFile parse_api_keys_file(std::string_view text) noexcept;
    std::vector<Entry> entries_;
};

struct ApiKeysFile {
    ApiKeys keys;
    std::string error;  // empty: read; else "line N: why" (never the line's content)
};

// One "<sha256-hex-of-key> <device-id>" a line ('#' comment lines, blank lines). The hash is
// 64 hex digits (either case): anything else in the first field, a plain key above all, is
// refused. The device id follows the JWT device id rules (1..128 printable ASCII). A hash
// listed twice is refused; a device may have several keys. An empty file is no error.
ApiKeysFile parse_api_keys_file(std::string_view text) noexcept;

}  // namespace wa_pair
