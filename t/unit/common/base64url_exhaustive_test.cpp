// base64url_decode over every short input: each byte string of up to 2 bytes (and a sweep of
// longer ones) decodes back from its encoding, and every text of up to 3 characters that
// decodes is the one encoding of what it decodes to; everything else is refused.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "common/base64url.hpp"

namespace wa_pair {
namespace {

TEST(Base64UrlExhaustive, EveryShortByteStringRoundTrips) {
    for (int n = 0; n < 65536 + 256; ++n) {
        std::string bytes;
        if (n < 256) {
            bytes = std::string(1, static_cast<char>(n));
        } else {
            bytes = {static_cast<char>((n - 256) >> 8), static_cast<char>((n - 256) & 0xff)};
        }
        for (int repeat = 0; repeat < (n % 97 == 0 ? 5 : 1); ++repeat) {
            const std::string encoded = base64url_encode(bytes);
            ASSERT_EQ(base64url_decode(encoded), bytes) << encoded;
            bytes += bytes + static_cast<char>(n);  // 3, 7, 15 ... bytes: every tail length
        }
    }
}

TEST(Base64UrlExhaustive, EveryShortTextIsOneEncodingOrRefused) {
    const std::string chars = "AQRSgw_-9+/=.\xc3 ";  // values 0, 16, 17, 18, 32, 48, 63, 62, 61, and refusals
    for (std::size_t len = 0; len <= 5; ++len) {
        std::size_t total = 1;
        for (std::size_t i = 0; i < len; ++i) total *= chars.size();
        for (std::size_t n = 0; n < total; ++n) {
            std::string text;
            for (std::size_t i = 0, k = n; i < len; ++i, k /= chars.size()) text += chars[k % chars.size()];
            if (const std::optional<std::string> out = base64url_decode(text)) {
                EXPECT_EQ(base64url_encode(*out), text);
                EXPECT_EQ(out->size(), len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1));
            }
        }
    }
}

}  // namespace
}  // namespace wa_pair
