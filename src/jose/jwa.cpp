// The JWA table: names, and the key type each algorithm needs.
#include "jose/jwa.hpp"

namespace wa_pair {

namespace {

struct AlgInfo {
    std::string_view name;
    KeyType key;
};

constexpr AlgInfo kAlgs[kAlgCount] = {
    {"HS256", KeyType::oct},     {"HS384", KeyType::oct},     {"HS512", KeyType::oct},     {"RS256", KeyType::rsa},
    {"RS384", KeyType::rsa},     {"RS512", KeyType::rsa},     {"PS256", KeyType::rsa},     {"PS384", KeyType::rsa},
    {"PS512", KeyType::rsa},     {"ES256", KeyType::ec_p256}, {"ES384", KeyType::ec_p384}, {"ES512", KeyType::ec_p521},
    {"EdDSA", KeyType::ed25519},
};

}  // namespace

std::optional<Alg> alg_from_name(std::string_view name) noexcept {
    for (int i = 0; i < kAlgCount; ++i) {
        if (kAlgs[i].name == name) return static_cast<Alg>(i);
    }
    return std::nullopt;
}

std::string_view alg_name(Alg alg) noexcept {
    return kAlgs[static_cast<int>(alg)].name;
}

KeyType key_type_for(Alg alg) noexcept {
    return kAlgs[static_cast<int>(alg)].key;
}

std::string_view key_type_name(KeyType type) noexcept {
    switch (type) {
    case KeyType::oct:
        return "oct";
    case KeyType::rsa:
        return "RSA";
    case KeyType::ec_p256:
        return "EC P-256";
    case KeyType::ec_p384:
        return "EC P-384";
    case KeyType::ec_p521:
        return "EC P-521";
    case KeyType::ed25519:
        return "OKP Ed25519";
    }
    return "unknown";
}

void AlgSet::add_all_for(KeyType type) noexcept {
    for (int i = 0; i < kAlgCount; ++i) {
        if (kAlgs[i].key == type) add(static_cast<Alg>(i));
    }
}

std::string AlgSet::names() const {
    std::string out;
    for (int i = 0; i < kAlgCount; ++i) {
        if (!contains(static_cast<Alg>(i))) continue;
        if (!out.empty()) out += ' ';
        out += kAlgs[i].name;
    }
    return out;
}

}  // namespace wa_pair
