// wa_pair_session_start on nginx: a request's exchange with its engine when it is
// more than one call (ngx_wa_pair_session.cpp). The decisions are the core's (session.hpp);
// the calls are nginx's upstream runs (ngx_wa_pair_upstream.cpp), one after the other on the
// same request, and the waits between them are timers.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "nginx/ngx_wa_pair_nginx.hpp"
#include "backend/session.hpp"

namespace ngx_wa_pair {

struct RequestCtx;
struct wa_pair_loc_conf_t;

// A request's part: a member of RequestCtx, it dies with the request's pool.
struct SessionRun {
    std::optional<wa_pair::SessionExchange> exchange;  // made with the first call
    wa_pair::Next pending;                             // what the wake event does when it fires
    ngx_event_t wake{};                                // posted (at once) or a timer (a wait between calls)
    ngx_msec_t step_started = 0;                       // when the current call began

    SessionRun() = default;
    SessionRun(const SessionRun &) = delete;
    SessionRun &operator=(const SessionRun &) = delete;
    // Deletes the wake event of a request that ends while it waits (its client left).
    ~SessionRun();
};

// wa_pair_session_start's inheritance, and nginx -t's checks of a wa_pair location.
char *merge_session_conf(ngx_conf_t *cf, wa_pair_loc_conf_t *prev, wa_pair_loc_conf_t *conf) noexcept;

// The first call of a request's exchange is about to be made.
void session_begin(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, RequestCtx *ctx) noexcept;

// The current call's whole answer (from the upstream's process_header). false: `out` is the
// client's answer. true: the exchange goes on; this call has been ended (its connection kept
// alive or closed as at the end of any call) and process_header returns NGX_ERROR, which
// nginx's upstream takes for a call already finalized (the request lives on).
bool session_answer(ngx_http_request_t *r, RequestCtx *ctx, long status, std::string_view body,
                    std::string_view retry_after, wa_pair::PairCode &out) noexcept;

}  // namespace ngx_wa_pair
