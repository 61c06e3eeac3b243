// wa_pair_status's answer: the envelope of a device's pairing state, and its
// `wait` parameter. No nginx types.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "edge/policy.hpp"

namespace wa_pair {

inline constexpr long kMaxWaitSeconds = 60;
inline constexpr std::string_view kBadWait = "Parameter wait must be 1 to 60 seconds";

// {"status":true,"code":200,"message":"Pairing status","data":{"state":"pending","timeout":87}}
// ("timeout" only while pending). No value only when memory is exhausted.
std::optional<std::string> status_envelope(const PairingStatus &status) noexcept;

// "none", "pending", "linked".
std::string_view state_name(PairingState state) noexcept;

// `wait`'s value: 1..60 decimal digits' worth of seconds; none for anything else ("", "0",
// "61", "5s", "+5", " 5", "05" included: a wait is an integer, written plainly).
std::optional<long> parse_wait_seconds(std::string_view value) noexcept;

}  // namespace wa_pair
