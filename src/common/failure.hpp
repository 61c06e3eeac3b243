// The core's one way of saying no (docs/architecture.md §2).
//
// A core function that can refuse or fail returns its result with the reason inside it, never
// through an exception, a sentinel value or a bool and an out-parameter:
// - a refusal a client will read is a Failure: the answer's status and the contract's text;
// - a reason only an operator reads (a bad key file, a URL nginx -t refuses) is a result
//   struct whose `error` is empty on success and says why otherwise;
// - a value that may simply be absent (a name that is not a protocol) is a std::optional.
// The core throws nothing but std::bad_alloc, and its functions marked noexcept turn that
// into kInternalError (a Failure of 500) or their result's error.
#pragma once

#include <string>
#include <string_view>

namespace wa_pair {

// A decision of the core: code 0 means "go on", any other code is the final answer and
// `error` its human text.
struct Failure {
    int code = 0;
    std::string error;
    explicit operator bool() const noexcept { return code != 0; }
};

// The contract's 500 text. The core also answers it when it fails itself (memory exhausted),
// so that no exception ever reaches nginx.
inline constexpr std::string_view kInternalError = "Failed to generate pairing code";

}  // namespace wa_pair
