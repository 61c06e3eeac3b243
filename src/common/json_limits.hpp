// The limits every JSON reader of the core applies (parse_json and scan_json_object alike), so
// that the DOM reader and the scanner refuse the same documents.
#pragma once

namespace wa_pair {

// Nesting deeper than this is refused: no legitimate body, JWT or backend answer needs it.
// A document may open this many containers, one inside the other; one more is refused.
inline constexpr int kMaxJsonDepth = 8;

}  // namespace wa_pair
