// The API key file and the constant-time lookup.
#include "auth/api_keys.hpp"

#include <optional>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/ascii.hpp"
#include "jose/jwt.hpp"
#include "auth/line_file.hpp"

namespace wa_pair {

namespace {

constexpr std::size_t kMaxKeyBytes = 1024;

using ascii::hex_value;

std::optional<std::array<unsigned char, 32>> parse_hash(std::string_view hex) noexcept {
    if (hex.size() != 64) return std::nullopt;
    std::array<unsigned char, 32> out{};
    for (std::size_t i = 0; i < 32; ++i) {
        const int hi = hex_value(hex[2 * i]);
        const int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    return out;
}

}  // namespace

const std::string *ApiKeys::find(std::string_view key) const noexcept {
    if (key.empty() || key.size() > kMaxKeyBytes) return nullptr;
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(key.data(), key.size(), hash, &len, EVP_sha256(), nullptr) != 1 || len != 32) {
        return nullptr;
    }
    // Every entry is compared; the match is selected with a mask, not a branch.
    std::size_t found = 0;  // index + 1 of the matching entry, 0: none
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        const std::size_t equal = static_cast<std::size_t>(CRYPTO_memcmp(hash, entries_[i].hash.data(), 32) == 0);
        const std::size_t mask = 0 - equal;
        found = (found & ~mask) | ((i + 1) & mask);
    }
    OPENSSL_cleanse(hash, sizeof(hash));
    return found == 0 ? nullptr : &entries_[found - 1].device_id;
}

ApiKeysFile parse_api_keys_file(std::string_view text) noexcept {
    ApiKeysFile result;
    try {
        result.error = for_each_record(text, [&](std::size_t, const std::vector<std::string_view> &f) -> std::string {
            ApiKeys::Entry entry;
            // The content of a bad first field is never repeated: it may be a plain key.
            const std::optional<std::array<unsigned char, 32>> hash = parse_hash(f[0]);
            if (!hash) {
                return "the first field is not the SHA-256 of a key in hex (64 digits); "
                       "a plain key is refused: store printf %s KEY | sha256sum";
            }
            entry.hash = *hash;
            if (f.size() < 2) return "no device id after the key hash";
            if (f.size() > 2) return "more than two fields";
            if (!is_identifier(f[1])) return "the device id is not 1..128 printable ASCII characters";
            for (const ApiKeys::Entry &other : result.keys.entries_) {
                if (other.hash == entry.hash) return "a key hash listed twice";
            }
            entry.device_id.assign(f[1]);
            result.keys.entries_.push_back(std::move(entry));
            return {};
        });
    } catch (...) {
        result.error = "out of memory";
    }
    if (!result.error.empty()) result.keys.entries_.clear();
    return result;
}

}  // namespace wa_pair
