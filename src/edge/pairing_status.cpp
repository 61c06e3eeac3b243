// wa_pair_status's envelope and its wait parameter (pairing_status.hpp).
#include "edge/pairing_status.hpp"

namespace wa_pair {

std::string_view state_name(PairingState state) noexcept {
    switch (state) {
    case PairingState::pending:
        return "pending";
    case PairingState::linked:
        return "linked";
    default:
        return "none";
    }
}

std::optional<std::string> status_envelope(const PairingStatus &status) noexcept {
    try {
        std::string out = R"({"status":true,"code":200,"message":"Pairing status","data":{"state":")";
        out += state_name(status.state);
        out += '"';
        if (status.state == PairingState::pending) {
            out += ",\"timeout\":";
            out += std::to_string(status.seconds);
        }
        out += "}}";
        return out;
    } catch (...) {
        return std::nullopt;
    }
}

std::optional<long> parse_wait_seconds(std::string_view value) noexcept {
    if (value.empty() || value.size() > 2 || value[0] == '0') return std::nullopt;
    long n = 0;
    for (char c : value) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
    }
    if (n < 1 || n > kMaxWaitSeconds) return std::nullopt;
    return n;
}

}  // namespace wa_pair
