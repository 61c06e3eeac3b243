// What an entry point caught: no exception crosses into nginx, and the log says what was
// thrown (docs/architecture.md §2). Each function is called inside a catch block only.
#pragma once

#include "nginx/ngx_wa_pair_nginx.hpp"

namespace ngx_wa_pair {

// The text of the exception being handled: e.what() for a std::exception, else
// "unknown exception". Valid until that catch block ends.
const char *caught_what() noexcept;

// Logs "wa_pair: <where>: <what was thrown>" at NGX_LOG_ALERT on `log`.
void log_caught(ngx_log_t *log, const char *where) noexcept;

// At configuration time: the [emerg] line "\"<directive>\": <what was thrown>".
void conf_log_caught(ngx_conf_t *cf, const ngx_str_t &directive) noexcept;

}  // namespace ngx_wa_pair
