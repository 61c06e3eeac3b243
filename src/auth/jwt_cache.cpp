#include "auth/jwt_cache.hpp"

#include <cstdint>
#include <cstring>
#include <functional>

namespace wa_pair {

namespace {

// Equal-length byte strings compared in time that depends only on their length: eight bytes
// at a time, differences ORed together, no early exit (CRYPTO_memcmp goes byte by byte).
bool same_bytes(const char *a, const char *b, std::size_t n) noexcept {
    std::uint64_t diff = 0;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t x, y;
        std::memcpy(&x, a + i, 8);
        std::memcpy(&y, b + i, 8);
        diff |= x ^ y;
    }
    for (; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

}  // namespace

std::size_t JwtCache::slot_of(std::string_view token) noexcept {
    // The tail is the signature, as good as random for any token worth keeping (only verified
    // ones are); hashing it alone is a sixth of hashing the whole token.
    const std::size_t tail = token.size() < 32 ? token.size() : 32;
    return std::hash<std::string_view>{}(token.substr(token.size() - tail)) % kSlots;
}

const AuthResult *JwtCache::find(std::string_view token, std::time_t now) const noexcept {
    if (slots_.empty() || token.size() > kMaxTokenBytes) return nullptr;
    const Slot &slot = slots_[slot_of(token)];
    if (slot.token.size() != token.size() || token.empty() ||
        !same_bytes(slot.token.data(), token.data(), token.size())) {
        return nullptr;
    }
    if (time_failure(slot.result.times, now) != nullptr) return nullptr;  // verified again, refused
    return &slot.result;
}

void JwtCache::store(std::string_view token, const AuthResult &verified) noexcept {
    if (verified.failure || verified.method != AuthMethod::jwt || token.empty() || token.size() > kMaxTokenBytes) {
        return;
    }
    try {
        if (slots_.empty()) slots_.resize(kSlots);
        Slot &slot = slots_[slot_of(token)];
        slot.token.assign(token);
        slot.result = verified;
    } catch (...) {
        // out of memory: nothing kept, the next request verifies again
        if (!slots_.empty()) slots_[slot_of(token)].token.clear();
    }
}

void JwtCache::clear() noexcept {
    for (Slot &slot : slots_) slot.token.clear();
}

}  // namespace wa_pair
