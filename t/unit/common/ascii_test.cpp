// src/common/ascii.hpp's scanners against the obvious loops, on every short string over a small
// alphabet (blanks, dots and a letter at every position) and on long random ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>

#include "common/ascii.hpp"

namespace wa_pair {
namespace {

std::size_t naive_find_blank(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == ' ' || s[i] == '\t') return i;
    }
    return std::string_view::npos;
}

std::size_t naive_count_upto(std::string_view s, char c, std::size_t limit) {
    return std::min<std::size_t>(static_cast<std::size_t>(std::count(s.begin(), s.end(), c)), limit);
}

void check(const std::string &s) {
    ASSERT_EQ(ascii::find_blank(s), naive_find_blank(s)) << "[" << s << "]";
    for (std::size_t limit = 0; limit <= 4; ++limit) {
        ASSERT_EQ(ascii::count_upto(s, '.', limit), naive_count_upto(s, '.', limit)) << "[" << s << "] " << limit;
    }
}

TEST(Ascii, EveryShortStringOverBlanksDotsAndALetter) {
    const char alphabet[] = {' ', '\t', '.', 'a'};
    for (std::size_t len = 0; len <= 7; ++len) {
        std::size_t combos = 1;
        for (std::size_t i = 0; i < len; ++i) combos *= 4;
        for (std::size_t n = 0; n < combos; ++n) {
            std::string s;
            for (std::size_t i = 0, k = n; i < len; ++i, k /= 4) s.push_back(alphabet[k % 4]);
            check(s);
        }
    }
}

TEST(Ascii, LongRandomStrings) {
    std::mt19937 rng(7);
    for (int round = 0; round < 2000; ++round) {
        std::string s(rng() % 600, 'x');
        for (char &c : s) {
            const unsigned r = rng() % 100;
            c = r == 0 ? ' ' : r == 1 ? '\t' : r < 4 ? '.' : static_cast<char>('A' + r % 26);
        }
        check(s);
    }
}

}  // namespace
}  // namespace wa_pair

namespace wa_pair {
namespace {

// hex_lower against snprintf's %02x: every byte value at every position of a 16-byte id, and
// nothing written past 2 * n.
TEST(Ascii, HexLowerIsSnprintfsLowercaseHex) {
    for (int v = 0; v < 256; ++v) {
        for (std::size_t pos = 0; pos < 16; ++pos) {
            unsigned char in[16];
            for (std::size_t i = 0; i < 16; ++i) in[i] = static_cast<unsigned char>(i * 37 + 11);
            in[pos] = static_cast<unsigned char>(v);
            char out[33];
            out[32] = '#';
            ascii::hex_lower(out, in, 16);
            std::string want;
            for (unsigned char b : in) {
                char two[3];
                std::snprintf(two, sizeof(two), "%02x", b);
                want += two;
            }
            ASSERT_EQ(std::string(out, 32), want) << v << " at " << pos;
            ASSERT_EQ(out[32], '#');
        }
    }
}

}  // namespace
}  // namespace wa_pair
