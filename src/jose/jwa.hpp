// JSON Web Algorithms (RFC 7518, RFC 8037): the JWS algorithms the module verifies, and
// which type of key each one needs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wa_pair {

// "none" is not here: it cannot be named, so it cannot be allowed.
enum class Alg : std::uint8_t {
    HS256,
    HS384,
    HS512,
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    ES512,
    EdDSA,
};
inline constexpr int kAlgCount = 13;

// The type of a verification key. EC keys are typed by curve, since each ES algorithm names
// its curve (RFC 7518 section 3.4); OKP keys are Ed25519 only.
enum class KeyType : std::uint8_t { oct, rsa, ec_p256, ec_p384, ec_p521, ed25519 };

// Exact, case-sensitive JWA names (RFC 7515 section 4.1.1): "hs256" is no algorithm.
std::optional<Alg> alg_from_name(std::string_view name) noexcept;
std::string_view alg_name(Alg alg) noexcept;

// The key type `alg` verifies with: an RSA key is never an HMAC secret, a P-256 key never
// verifies ES384.
KeyType key_type_for(Alg alg) noexcept;
std::string_view key_type_name(KeyType type) noexcept;  // "oct", "RSA", "EC P-256" ...

// A set of algorithms: the allow-list.
class AlgSet {
public:
    void add(Alg alg) noexcept { bits_ |= bit(alg); }
    void add_all_for(KeyType type) noexcept;
    bool contains(Alg alg) const noexcept { return (bits_ & bit(alg)) != 0; }
    bool empty() const noexcept { return bits_ == 0; }
    bool operator==(const AlgSet &other) const noexcept { return bits_ == other.bits_; }
    void add_all(const AlgSet &other) noexcept { bits_ |= other.bits_; }
    std::string names() const;  // "HS256 RS256", for logs and messages

private:
    static std::uint32_t bit(Alg alg) noexcept { return 1u << static_cast<unsigned>(alg); }
    std::uint32_t bits_ = 0;
};

}  // namespace wa_pair
