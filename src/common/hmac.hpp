// HMAC-SHA-256/384/512 (RFC 2104) with the key's inner and outer hash states computed once, at
// configuration time. A check then hashes only the message and the inner digest: no key
// schedule, no algorithm fetch, no allocation. The hashing itself is OpenSSL's (its SHA-2
// block functions, with the CPU's SHA extensions where it has them).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace wa_pair {

enum class HmacHash : unsigned char { sha256, sha384, sha512 };

class HmacKey {
public:
    // Null when the secret is empty or memory runs out.
    static std::shared_ptr<const HmacKey> prepare(std::string_view secret) noexcept;

    // The MAC of `message` into `out` (room for 64 bytes); its length, 0 on failure.
    std::size_t sign(HmacHash hash, std::string_view message, unsigned char *out) const noexcept;

    HmacKey(const HmacKey &) = delete;
    HmacKey &operator=(const HmacKey &) = delete;
    ~HmacKey();  // the states are as good as the key: wiped

    struct States;

private:
    HmacKey();
    std::unique_ptr<States> states_;
};

}  // namespace wa_pair
