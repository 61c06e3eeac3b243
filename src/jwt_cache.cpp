#include "jwt_cache.hpp"

#include <functional>

#include <openssl/crypto.h>

namespace wa_pair {

std::size_t JwtCache::slot_of(std::string_view token) noexcept
{
    return std::hash<std::string_view>{}(token) % kSlots;
}

const AuthResult* JwtCache::find(std::string_view token, std::time_t now) const noexcept
{
    if (slots_.empty() || token.size() > kMaxTokenBytes) return nullptr;
    const Slot& slot = slots_[slot_of(token)];
    if (slot.token.size() != token.size() || token.empty() ||
        CRYPTO_memcmp(slot.token.data(), token.data(), token.size()) != 0) {
        return nullptr;
    }
    if (time_failure(slot.result.times, now) != nullptr) return nullptr;  // verified again, refused
    return &slot.result;
}

void JwtCache::store(std::string_view token, const AuthResult& verified) noexcept
{
    if (verified.failure || verified.method != AuthMethod::jwt || token.empty() ||
        token.size() > kMaxTokenBytes) {
        return;
    }
    try {
        if (slots_.empty()) slots_.resize(kSlots);
        Slot& slot = slots_[slot_of(token)];
        slot.token.assign(token);
        slot.result = verified;
    } catch (...) {
        // out of memory: nothing kept, the next request verifies again
        if (!slots_.empty()) slots_[slot_of(token)].token.clear();
    }
}

}  // namespace wa_pair
