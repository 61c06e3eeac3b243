// Fuzz target: the JSON scanner (src/common/json_scan.hpp) against nlohmann through parse_json, the
// reader it replaced on the hot paths. Input: any bytes, read as one JSON text. Invariant: both
// accept or refuse it alike (within kMaxJsonDepth, and within a limit of 2 to reach the depth
// check with short inputs), and read the same top-level members (t/unit/json_oracle.hpp).
#include <cstdint>
#include <string>

#include "check.hpp"
#include "../t/unit/json_oracle.hpp"

using namespace wa_pair;
using namespace wa_pair_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    for (const int max_depth : {kMaxJsonDepth, 2}) {
        const std::string diff = oracle::compare(text, max_depth);
        FUZZ_CHECK(diff.empty(), diff);
    }
    return 0;
}
