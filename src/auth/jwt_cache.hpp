// Verified JWTs, reused. A device sends the same token with every request; checking its
// signature and reading its claims again each time is most of what an authenticated request
// costs (all of it for an RSA or EC key). A location keeps the verifications of its own
// configuration, per worker: a later request with byte-for-byte the same token reuses the
// result once its time claims (exp, nbf, iat) are judged again at the new time. Only
// successes are kept; the revocation list is consulted on every request, after this.
#pragma once

#include <cstddef>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "jose/jwt.hpp"

namespace wa_pair {

class JwtCache {
public:
    static constexpr std::size_t kSlots = 256;           // per location and worker
    static constexpr std::size_t kMaxTokenBytes = 2048;  // longer tokens are always verified

    // The kept verification of `token` when its time claims still hold at `now`, else null.
    // The token is compared in constant time (a probe learns nothing of a kept token).
    const AuthResult *find(std::string_view token, std::time_t now) const noexcept;

    // Keeps a successful verification of `token` (replacing what its slot held).
    void store(std::string_view token, const AuthResult &verified) noexcept;

    // Forgets every kept verification: the keys they were made with have changed.
    void clear() noexcept;

private:
    struct Slot {
        std::string token;  // empty: unused
        AuthResult result;
    };
    static std::size_t slot_of(std::string_view token) noexcept;
    std::vector<Slot> slots_;  // allocated by the first store
};

}  // namespace wa_pair
