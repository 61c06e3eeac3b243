// Phone normalisation (README.md, "What a client gets"): one table of what people type.
#include <gtest/gtest.h>

#include <string>

#include "edge/phone.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

constexpr const char *kRequired = "Phone number is required";
constexpr const char *kDigitsOnly = "Phone number must contain digits only";
constexpr const char *kLeadingZero = "Phone number must start with the country code, not 0";
constexpr const char *kLength = "Phone number must have 7 to 15 digits";

struct PhoneRow {
    const char *name;
    std::string input;
    std::string digits;  // expected on success
    const char *error;   // expected 400 text, nullptr on success
};

void PrintTo(const PhoneRow &row, std::ostream *os) {
    *os << row.name;
}

class Phone : public testing::TestWithParam<PhoneRow> {};

TEST_P(Phone, Normalizes) {
    const PhoneRow &row = GetParam();
    const PhoneResult result = normalize_phone(row.input);
    if (row.error == nullptr) {
        EXPECT_FALSE(result.failure) << result.failure.error;
        EXPECT_EQ(result.failure.code, 0);
        EXPECT_EQ(result.digits, row.digits);
    } else {
        EXPECT_EQ(result.failure.code, 400);
        EXPECT_EQ(result.failure.error, row.error);
        EXPECT_EQ(result.digits, "");
    }
}

const PhoneRow kPhones[] = {
    {"plain", "6281234567890", "6281234567890", nullptr},
    {"plus_spaces_dashes", "+62 812-3456-7890", "6281234567890", nullptr},
    {"double_zero_prefix", "0062 812 3456 7890", "6281234567890", nullptr},
    {"double_zero_compact", "006281234567890", "6281234567890", nullptr},
    {"parentheses_dots", "(62) 812.3456.7890", "6281234567890", nullptr},
    {"plus_inside_parentheses", "(+62) 812-3456-7890", "6281234567890", nullptr},
    {"us_number", "+1 (415) 555-0100", "14155550100", nullptr},
    {"surrounding_whitespace", " \t6281234567890\r\n", "6281234567890", nullptr},
    {"seven_digits", "1234567", "1234567", nullptr},
    {"fifteen_digits", "123456789012345", "123456789012345", nullptr},
    {"fifteen_digits_with_plus", "+123 456 789 012 345", "123456789012345", nullptr},
    {"six_digits", "123456", "", kLength},
    {"six_digits_after_plus", "+ 62 812", "", kLength},
    {"sixteen_digits", "1234567890123456", "", kLength},
    {"very_long", std::string(1000, '6'), "", kLength},
    {"leading_zero", "08123456789", "", kLeadingZero},
    {"single_zero", "0", "", kLeadingZero},
    {"triple_zero_prefix", "00062812345678", "", kLeadingZero},
    {"plus_then_double_zero", "+006281234567890", "", kLeadingZero},
    {"empty", "", "", kRequired},
    {"whitespace_only", " \t\n ", "", kRequired},
    {"separators_only", " - ( ) . ", "", kRequired},
    {"plus_only", "+", "", kRequired},
    {"double_zero_only", "00", "", kRequired},
    {"double_plus", "++6281234567890", "", kDigitsOnly},
    {"plus_at_end", "6281234567890+", "", kDigitsOnly},
    {"letters", "62812abc7890", "", kDigitsOnly},
    {"word", "phone", "", kDigitsOnly},
    {"arabic_indic_digits", "\xd9\xa6\xd9\xa2\xd9\xa8\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4", "", kDigitsOnly},
    {"fullwidth_digits",
     "\xef\xbc\x96\xef\xbc\x92\xef\xbc\x98\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93"
     "\xef\xbc\x94",
     "", kDigitsOnly},
    {"no_break_space",
     "62\xc2\xa0"
     "81234567890",
     "", kDigitsOnly},
    {"inner_tab", "62\t81234567890", "", kDigitsOnly},
    {"slash", "62/81234567890", "", kDigitsOnly},
    {"nul_byte",
     std::string("62812\0"
                 "34567890",
                 14),
     "", kDigitsOnly},
    {"whatsapp_jid", "6281234567890@s.whatsapp.net", "", kDigitsOnly},
};

INSTANTIATE_TEST_SUITE_P(Table, Phone, testing::ValuesIn(kPhones), RowName());

struct MaskRow {
    const char *name;
    std::string digits;
    const char *masked;
};

void PrintTo(const MaskRow &row, std::ostream *os) {
    *os << row.name;
}

class MaskPhone : public testing::TestWithParam<MaskRow> {};

TEST_P(MaskPhone, HidesAtLeastFourDigits) {
    EXPECT_EQ(mask_phone(GetParam().digits), GetParam().masked);
}

const MaskRow kMasks[] = {
    {"indonesian", "6281234567890", "62812****890"},
    {"fifteen", "123456789012345", "12345****345"},
    {"twelve", "628123456789", "62812****789"},
    {"eleven", "62812345678", "628****78"},
    {"nine", "123456789", "123****89"},
    {"eight", "12345678", "****"},
    {"seven", "1234567", "****"},
    {"empty", "", "****"},
    {"not_digits", "62812abc67890", "****"},
};

INSTANTIATE_TEST_SUITE_P(Table, MaskPhone, testing::ValuesIn(kMasks), RowName());

}  // namespace
}  // namespace wa_pair
