// Table rows carry a `name`; gtest shows it as the test name (Table/Phone.Normalizes/leading_zero).
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace wa_pair {

struct RowName {
    template <class Row>
    std::string operator()(const testing::TestParamInfo<Row> &param) const {
        return std::string(param.param.name);
    }
};

}  // namespace wa_pair
