// A table row for an engine's answer and its check, shared by t/unit/protocol_*_test.cpp.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backend/protocol.hpp"

namespace wa_pair {

inline constexpr const char *kInvalid = "Invalid answer from the pairing backend";
inline constexpr const char *kRejected = "Pairing request was rejected by the backend";
inline constexpr const char *kFailed = "Failed to generate pairing code";
inline constexpr const char *kUnavailable = "Pairing backend is unavailable";
inline constexpr const char *kTimedOut = "Pairing backend did not answer in time";
inline constexpr const char *kAlreadyLoggedIn = "Device is already logged in";
inline constexpr const char *kTooMany = "Too many pairing requests";
inline constexpr long kConfiguredTimeout = 90;     // wa_pair_code_timeout in these rows
inline constexpr long kWhatsAppRetryAfter = 3600;  // WhatsApp's rate-overlimit, no Retry-After
inline constexpr bool kWarn = true;                // a row whose failure is logged at warn

struct EngineRow {
    const char *name;
    long status;
    std::string body;
    int code;          // the envelope's code: 200 on success
    std::string text;  // the pair code on success, else the error text
    Outcome outcome;
    long retry_after;  // -1: no Retry-After
    long timeout;      // on success
    std::string retry_after_header = "";
    bool warn = false;  // logged at warn; else error from 500 up, info below
};

inline void PrintTo(const EngineRow &row, std::ostream *os) {
    *os << row.name;
}

inline void check_engine_row(Protocol protocol, const EngineRow &row) {
    const PairCode answer = map_answer(protocol, row.status, row.body, row.retry_after_header, kConfiguredTimeout);
    EXPECT_EQ(answer.outcome, row.outcome) << outcome_name(answer.outcome);
    EXPECT_EQ(answer.has_retry_after, row.retry_after >= 0);
    if (row.retry_after >= 0) {
        EXPECT_EQ(answer.retry_after, row.retry_after);
    }
    EXPECT_FALSE(answer.reason.empty() && row.code != 200);  // the error log says why
    if (row.code != 200) {
        const LogLevel level = row.warn ? LogLevel::warn : row.code >= 500 ? LogLevel::error : LogLevel::info;
        EXPECT_EQ(static_cast<int>(answer.log_level), static_cast<int>(level)) << "0 info, 1 warn, 2 error";
    }
    if (row.code == 200) {
        EXPECT_EQ(answer.failure.code, 0);
        EXPECT_EQ(answer.code, row.text);
        EXPECT_EQ(answer.timeout, row.timeout);
    } else {
        EXPECT_EQ(answer.failure.code, row.code);
        EXPECT_EQ(answer.failure.error, row.text);
        EXPECT_EQ(answer.code, "");
    }
}

// "Name: value" lines of a request's headers, in order.
inline std::vector<std::string> header_lines(const BackendRequest &request) {
    std::vector<std::string> lines;
    for (const Header &h : request.headers) lines.push_back(h.name + ": " + h.value);
    return lines;
}

}  // namespace wa_pair
