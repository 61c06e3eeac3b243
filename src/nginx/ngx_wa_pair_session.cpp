// wa_pair_session_start on nginx's upstream: when the engine's answer says its
// session is not started (or is starting), the request's exchange goes on with more calls --
// the session's start, its readiness, then the pairing call again -- each one a run of nginx's
// upstream on the same request, as a request redirected from one proxied location to another
// gets a new one: ngx_http_upstream_create() ends the run before (nginx keeps its connection
// alive when the answer was whole, or closes it, as at the end of any call; it counts the
// request while it does) and the next run is started from an event of our own, never from
// inside the run that ends. A wait between calls is a timer; nothing blocks the worker.
//
// One start per device per wa_pair_backend_timeout: recorded in the location's wa_pair_zone
// for every worker, else in this worker's own memory (with N workers and no zone, up to N
// starts in a window: docs/engines.md, "Starting a session").

#include <optional>
#include <string>

#include <openssl/rand.h>

#include "nginx/ngx_wa_pair_conf.hpp"
#include "nginx/ngx_wa_pair_caught.hpp"
#include "edge/phone.hpp"

namespace ngx_wa_pair {

namespace {

wa_pair::Protocol protocol_of(const wa_pair_loc_conf_t *lcf) {
    return static_cast<wa_pair::Protocol>(lcf->backend_protocol);
}

std::int64_t now_ms() {
    return static_cast<std::int64_t>(ngx_current_msec);
}

// This worker's starts, for locations without a zone.
wa_pair::StartLog &worker_starts() {
    static wa_pair::StartLog log;
    return log;
}

// This worker's known Evolution connections, for locations without a zone.
wa_pair::ConnectionLog &worker_connections() {
    static wa_pair::ConnectionLog log;
    return log;
}

// The key of this worker's HMACs of numbers in that log (numbers are never kept in clear).
const wa_pair::ZoneKey &worker_phone_key() {
    static const wa_pair::ZoneKey key = [] {
        wa_pair::ZoneKey k{};
        if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1) {
            k.fill(0);  // a known key only weakens the HMAC of a number held in this process
        }
        return k;
    }();
    return key;
}

// Evolution: tells the exchange the connection the edge knows for the device and the
// request's number, from the zone when the request has an entry there, else from this worker.
void know_connection(RequestCtx *ctx) {
    const std::int64_t now = now_ms();
    std::optional<wa_pair::PhoneHash> number;
    std::optional<wa_pair::EvolutionConnection> known = zone_evolution_connection(ctx, now);
    if (known) {
        number = ctx->zone.phone;
    } else {
        known = worker_connections().find(ctx->device_id, now);
        number = wa_pair::hash_phone(worker_phone_key(), ctx->phone);
    }
    if (number) {
        ctx->session.exchange->know_connection(known.value_or(wa_pair::EvolutionConnection{}), *number);
    }
}

void remember_connection(RequestCtx *ctx, const wa_pair::EvolutionConnection &connection) {
    if (!zone_remember_evolution_connection(ctx, connection, now_ms())) {
        worker_connections().remember(ctx->device_id, connection);
    }
}

void run(ngx_http_request_t *r, RequestCtx *ctx, wa_pair::Next next);

// The exchange ends here, outside any upstream run: its answer as the envelope, as answer()
// (ngx_wa_pair_upstream.cpp) gives one at the end of a call.
ngx_int_t finish(ngx_http_request_t *r, RequestCtx *ctx, const wa_pair::PairCode &pc) {
    if (pc.failure) {
        log_failure(r, ctx,
                    pc.log_level == wa_pair::LogLevel::error  ? NGX_LOG_ERR
                    : pc.log_level == wa_pair::LogLevel::warn ? NGX_LOG_WARN
                                                              : NGX_LOG_INFO,
                    pc.reason);
    }
    zone_after_backend(ctx, pc);
    ctx->outcome = pc.outcome;
    if (!pc.failure) {
        return send_envelope(r, NGX_HTTP_OK, wa_pair::success_envelope(pc.code, pc.timeout));
    }
    if (pc.has_retry_after && !add_header(r, "Retry-After", std::to_string(pc.retry_after))) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return send_failure(r, pc.failure);
}

void wake_handler(ngx_event_t *ev) noexcept {
    auto *r = static_cast<ngx_http_request_t *>(ev->data);
    ngx_connection_t *c = r->connection;
    RequestCtx *ctx = get_ctx(r);
    SessionRun &s = ctx->session;
    wa_pair::Next next = std::move(s.pending);
    s.pending = wa_pair::Next{};
    if (next.kind == wa_pair::Next::Kind::wait) {
        next = s.exchange->on_wake(now_ms());
    }
    r->read_event_handler = ngx_http_block_reading;
    run(r, ctx, std::move(next));
    ngx_http_run_posted_requests(c);
}

// Parks the request until the wake event: at once (posted) or after a wait.
void park(ngx_http_request_t *r, RequestCtx *ctx, wa_pair::Next next) {
    SessionRun &s = ctx->session;
    s.wake.handler = wake_handler;
    s.wake.data = r;
    s.wake.log = r->connection->log;
    const bool wait = next.kind == wa_pair::Next::Kind::wait;
    const std::int64_t delay = next.delay_ms;
    s.pending = std::move(next);
    if (wait) {
        ngx_add_timer(&s.wake, static_cast<ngx_msec_t>(delay > 0 ? delay : 1));
    } else {
        ngx_post_event(&s.wake, &ngx_posted_events);
    }
    // In a zone the exchange goes on when its client leaves (its waiters and the client's
    // retry get its code), as a call does (ignore_client_abort); elsewhere it ends with it.
    r->read_event_handler = loc_conf(r)->upstream.ignore_client_abort ? ngx_http_block_reading : ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;
}

// May this device's session be started now (one start per device per
// wa_pair_backend_timeout)? If not, when another may be.
wa_pair::StartClaim claim(ngx_http_request_t *r, RequestCtx *ctx) {
    const std::int64_t window = static_cast<std::int64_t>(loc_conf(r)->backend_timeout);
    if (const std::optional<wa_pair::StartClaim> in_zone = zone_claim_session_start(ctx, now_ms(), window)) {
        return *in_zone;
    }
    return worker_starts().claim(ctx->device_id, now_ms(), window);
}

// Does what the exchange says until it waits, calls, or answers.
void run(ngx_http_request_t *r, RequestCtx *ctx, wa_pair::Next next) {
    wa_pair_loc_conf_t *lcf = loc_conf(r);
    SessionRun &s = ctx->session;
    try {
        for (;;) {
            switch (next.kind) {
            case wa_pair::Next::Kind::claim: {
                const wa_pair::StartClaim start = claim(r, ctx);
                if (start.granted) {
                    log_failure(r, ctx, NGX_LOG_INFO, "said the session is not started: starting it");
                }
                next = s.exchange->on_claim(start.granted, start.retry_at, now_ms());
                continue;
            }
            case wa_pair::Next::Kind::wait:
                ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                               "wa_pair: waiting %L ms before the session's %s call", next.delay_ms,
                               wa_pair::step_name(next.step).data());
                park(r, ctx, std::move(next));
                return;
            case wa_pair::Next::Kind::call:
                if (backend_call(r, lcf, ctx, next.step)) {
                    return;  // nginx's upstream has the request
                }
                next = wa_pair::Next{};
                next.answer = wa_pair::map_transport_failure(wa_pair::TransportFailure::internal);
                continue;
            case wa_pair::Next::Kind::answer:
                ngx_http_finalize_request(r, finish(r, ctx, next.answer));
                return;
            }
        }
    } catch (...) {
        log_caught(r->connection->log, "the session's exchange");
    }
    ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
}

}  // namespace

SessionRun::~SessionRun() {
    if (wake.timer_set) {
        ngx_del_timer(&wake);
    }
    if (wake.posted) {
        ngx_delete_posted_event(&wake);
    }
}

void session_begin(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, RequestCtx *ctx) noexcept {
    (void)r;
    wa_pair::ExchangeConfig config;
    config.protocol = protocol_of(lcf);
    config.session_start = lcf->session_start != 0;
    config.budget_ms = static_cast<std::int64_t>(lcf->backend_timeout);
    config.configured_timeout = static_cast<long>(lcf->code_timeout);
    ctx->session.exchange.emplace(config, now_ms());
}

bool session_answer(ngx_http_request_t *r, RequestCtx *ctx, long status, std::string_view body,
                    std::string_view retry_after, wa_pair::PairCode &out) noexcept {
    SessionRun &s = ctx->session;
    const bool evolution = protocol_of(loc_conf(r)) == wa_pair::Protocol::evolution;
    if (evolution) {
        try {
            know_connection(ctx);
        } catch (...) {
            log_caught(r->connection->log, "Evolution's known connection");  // judged without it
        }
    }
    wa_pair::Next next =
        s.exchange->on_answer(status, body, retry_after, static_cast<std::int64_t>(s.step_started), now_ms());
    if (const wa_pair::EvolutionConnection *started = evolution ? s.exchange->started_connection() : nullptr) {
        try {
            remember_connection(ctx, *started);
        } catch (...) {
            log_caught(r->connection->log, "Evolution's started connection");
        }
    }
    if (next.kind == wa_pair::Next::Kind::answer) {
        out = std::move(next.answer);
        return false;
    }
    // The exchange goes on. This call ends now (the answer was whole: its connection goes back
    // to the upstream block's keepalive when the engine keeps it), and the request lives on:
    // process_header answers NGX_ERROR, and nginx's upstream, seeing the call ended already,
    // finalizes the request with NGX_DONE, which this count balances.
    r->main->count++;
    ctx->call->goes_on = true;  // ngx_http_upstream_create finalizes this call: not a call of its own
    if (ngx_http_upstream_create(r) != NGX_OK) {
        next = wa_pair::Next{};
        next.answer = wa_pair::map_transport_failure(wa_pair::TransportFailure::internal);
    }
    park(r, ctx, std::move(next));
    return true;
}

char *merge_session_conf(ngx_conf_t *cf, wa_pair_loc_conf_t *prev, wa_pair_loc_conf_t *conf) noexcept {
    ngx_conf_merge_value(conf->session_start, prev->session_start, 0);
    if (!conf->enable || !conf->session_start || conf->backend_raw.data == nullptr) {
        return NGX_CONF_OK;
    }
    const wa_pair::Protocol protocol = protocol_of(conf);
    if (!wa_pair::session_start_supported(protocol)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"wa_pair_session_start on\" has nothing to start with "
                           "\"wa_pair_backend_protocol %s\": %s",
                           wa_pair::protocol_name(protocol).data(),
                           protocol == wa_pair::Protocol::origin ? "origin connects its sessions itself"
                                                                 : "the native protocol has no session");
        return WA_PAIR_CONF_ERROR;
    }
    try {
        const std::string error = wa_pair::check_session_backend(protocol, view(conf->backend_raw));
        if (!error.empty()) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"wa_pair_session_start on\" cannot find the %s session's start in "
                               "\"wa_pair_backend %V\": %s",
                               wa_pair::protocol_name(protocol).data(), &conf->backend_raw, error.c_str());
            return WA_PAIR_CONF_ERROR;
        }
    } catch (...) {
        static const ngx_str_t name = ngx_string("wa_pair_session_start");
        conf_log_caught(cf, name);
        return WA_PAIR_CONF_ERROR;
    }
    return NGX_CONF_OK;
}

}  // namespace ngx_wa_pair
