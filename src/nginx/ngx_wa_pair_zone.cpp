// The edge policy in nginx, its request flow (docs/edge-policy.md, docs/architecture.md §4): a
// request consults the zone after its body is parsed and before the backend call; one that
// waits for another's call is parked on a timer and looks again every 25 ms; the answers, the
// $wa_pair_cache variable and the directives. The zone itself is ngx_wa_pair_zone_store.cpp.

#include <algorithm>
#include <string_view>

#include "nginx/ngx_wa_pair_caught.hpp"
#include "nginx/ngx_wa_pair_metrics.hpp"
#include "nginx/ngx_wa_pair_zone_store.hpp"

namespace ngx_wa_pair {

namespace {

constexpr ngx_msec_t kPollMs = 25;
// A caller records its answer when its own timeout fires; waiters give up a little later.
constexpr std::int64_t kFlightGraceMs = 1000;
constexpr std::string_view kInProgress = "A pairing request for this device is already in progress";
constexpr std::string_view kTooMany = "Too many pairing requests";
constexpr std::string_view kAlreadyLinked = "Device is already logged in";

// ---------------------------------------------------------------- answers

wa_pair::PolicyConfig policy_config(const wa_pair_loc_conf_t *lcf) {
    wa_pair::PolicyConfig config;
    config.reuse = lcf->zone.reuse != 0;
    config.reuse_margin_ms = static_cast<std::int64_t>(lcf->zone.reuse_margin);
    config.limits = lcf->zone.limits;
    config.flight_ms = static_cast<std::int64_t>(lcf->backend_timeout) + kFlightGraceMs;
    return config;
}

ngx_int_t answer_limited(ngx_http_request_t *r, long retry_after) {
    if (!add_header(r, "Retry-After", std::to_string(retry_after))) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return send_failure(r, {NGX_HTTP_TOO_MANY_REQUESTS, std::string(kTooMany)});
}

// The answer of the call a request waited for, as its caller got it.
ngx_int_t answer_outcome(ngx_http_request_t *r, const Polled &p) {
    const wa_pair::CallResult &o = p.outcome;
    if (o.status == NGX_HTTP_OK) {
        return send_envelope(r, NGX_HTTP_OK, wa_pair::success_envelope(o.code, o.seconds));
    }
    std::string_view text = p.text[0] != '\0' ? std::string_view(p.text) : wa_pair::status_message(o.status);
    if (o.status == NGX_HTTP_TOO_MANY_REQUESTS && !add_header(r, "Retry-After", std::to_string(o.seconds))) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return send_failure(r, {o.status, std::string(text)});
}

void warn(ZoneCtx *z, ngx_log_t *log, const Consulted &c) {
    if (c.evicted > 0) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0, "wa_pair zone \"%V\": evicted %ui entries", &z->shm_zone->shm.name,
                       c.evicted);
    }
    if (c.warn) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "wa_pair_zone \"%V\" is full of entries the edge policy still needs "
                      "(limits, live codes, calls in flight): pairing requests that need a new "
                      "entry get 503 until some lapse; make the zone larger (at most one such "
                      "line a minute)",
                      &z->shm_zone->shm.name);
    }
}

// 503 with Retry-After: the edge policy cannot keep this request's state, and a call without
// it is never made.
ngx_int_t answer_unavailable(ngx_http_request_t *r, long retry_after) {
    if (!add_header(r, "Retry-After", std::to_string(retry_after))) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return send_failure(r, wa_pair::map_transport_failure(wa_pair::TransportFailure::unreachable).failure);
}

void poll_handler(ngx_event_t *ev) noexcept;

// A waiter looks at the zone on a timer: workers share no other way to wake each other.
void park(ngx_http_request_t *r, ZoneRequest &zr, std::int64_t now) {
    zr.poll.handler = poll_handler;
    zr.poll.data = r;
    zr.poll.log = r->connection->log;
    std::int64_t left = std::max<std::int64_t>(zr.deadline - now, 1);
    ngx_add_timer(&zr.poll, static_cast<ngx_msec_t>(std::min<std::int64_t>(kPollMs, left)));
    // a client that leaves ends the request; ~ZoneRequest deletes the timer
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;
}

void poll_handler(ngx_event_t *ev) noexcept {
    auto *r = static_cast<ngx_http_request_t *>(ev->data);
    ngx_connection_t *c = r->connection;
    ngx_int_t rc;
    try {
        RequestCtx *ctx = get_ctx(r);
        ZoneRequest &zr = ctx->zone;
        auto now = static_cast<std::int64_t>(ngx_current_msec);
        Polled p;
        poll_zone(zr.zone, zr, now, p);
        switch (p.state) {
        case wa_pair::WaitState::pending:
            park(r, zr, now);
            return;
        case wa_pair::WaitState::answered:
            zr.stop_waiting();
            r->read_event_handler = ngx_http_block_reading;
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0, "wa_pair zone: coalesced answer %d",
                           static_cast<int>(p.outcome.status));
            rc = answer_outcome(r, p);
            break;
        case wa_pair::WaitState::timed_out:
            zr.stop_waiting();
            r->read_event_handler = ngx_http_block_reading;
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0, "wa_pair zone: the call waited for timed out");
            rc = send_failure(r, wa_pair::map_transport_failure(wa_pair::TransportFailure::timeout).failure);
            break;
        default:  // gone: the call ended without an answer to share; decide again
            zr.stop_waiting();
            zr.cache = CacheStatus::none;
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0, "wa_pair zone: the call waited for is gone, deciding again");
            if (r->request_body == nullptr || r->request_body->post_handler == nullptr) {
                rc = send_failure(r, {NGX_HTTP_INTERNAL_SERVER_ERROR, std::string(wa_pair::kInternalError)});
                break;
            }
            // The body handler again, as if the body had just been read: it parses the same
            // body and consults the zone anew.
            r->request_body->post_handler(r);
            ngx_http_run_posted_requests(c);
            return;
        }
    } catch (...) {
        log_caught(c->log, "waiting for a pairing call");
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}

ZoneLocConf *zone_conf(void *conf, ngx_command_t *cmd) {
    return reinterpret_cast<ZoneLocConf *>(static_cast<char *>(conf) + cmd->offset);
}

char *check_margin(ngx_conf_t *cf, void *post, void *data) noexcept {
    (void)cf;
    (void)post;
    return *static_cast<ngx_msec_t *>(data) > 86400000 ? const_cast<char *>("must not exceed 1d") : NGX_CONF_OK;
}

}  // namespace

ngx_conf_post_t zone_reuse_margin_post = {check_margin};

std::string_view cache_status_name(CacheStatus s) noexcept {
    switch (s) {
    case CacheStatus::miss:
        return "miss";
    case CacheStatus::hit:
        return "hit";
    case CacheStatus::coalesced:
        return "coalesced";
    default:
        return {};
    }
}

// ---------------------------------------------------------------- ZoneRequest

ZoneRequest::~ZoneRequest() {
    if (poll.timer_set) {
        ngx_del_timer(&poll);
    }
    if (poll.posted) {
        ngx_delete_posted_event(&poll);
    }
    if (waiting && log != nullptr) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, log, 0, "wa_pair zone: a waiting request ended before the answer");
    }
    stop_waiting();
    if (caller && zone != nullptr) {
        if (log != nullptr) {
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, log, 0,
                           "wa_pair zone: a call ended unrecorded, its waiters decide again");
        }
        abandon_flight(zone, *this);
    }
}

void ZoneRequest::start_waiting(ngx_atomic_t *cell) noexcept {
    stop_waiting();
    waiting = true;
    waiting_cell = cell;
    if (cell != nullptr) {
        ngx_atomic_fetch_add(cell, 1);
    }
}

void ZoneRequest::stop_waiting() noexcept {
    if (waiting && waiting_cell != nullptr) {
        ngx_atomic_fetch_add(waiting_cell, -1);
    }
    waiting = false;
    waiting_cell = nullptr;
}

// ---------------------------------------------------------------- configuration

char *zone_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    (void)conf;
    ngx_str_t *value = static_cast<ngx_str_t *>(cf->args->elts);
    ngx_str_t arg = value[1];
    u_char *colon = static_cast<u_char *>(ngx_strlchr(arg.data, arg.data + arg.len, ':'));
    if (colon == nullptr || colon == arg.data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"%V\" (name:size, as in pairing:1m)", &arg,
                           &cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
    ngx_str_t name = {static_cast<size_t>(colon - arg.data), arg.data};
    ngx_str_t size_text = {static_cast<size_t>(arg.data + arg.len - colon - 1), colon + 1};
    ssize_t size = ngx_parse_size(&size_text);
    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid zone size \"%V\" in \"%V\"", &arg, &cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
    if (size < static_cast<ssize_t>(8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "zone \"%V\" of \"%V\" is too small (at least %uzk)", &arg, &cmd->name,
                           8 * ngx_pagesize / 1024);
        return WA_PAIR_CONF_ERROR;
    }
    auto *ctx = static_cast<ZoneCtx *>(ngx_pcalloc(cf->pool, sizeof(ZoneCtx)));
    if (ctx == nullptr) {
        return WA_PAIR_CONF_ERROR;
    }
    ngx_shm_zone_t *shm_zone = ngx_shared_memory_add(cf, &name, static_cast<size_t>(size), &ngx_http_wa_pair_module);
    if (shm_zone == nullptr) {
        return WA_PAIR_CONF_ERROR;
    }
    if (shm_zone->data != nullptr) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "duplicate zone \"%V\" in \"%V\"", &name, &cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
    ctx->shm_zone = shm_zone;
    shm_zone->init = init_zone;
    shm_zone->data = ctx;
    return NGX_CONF_OK;
}

char *zone_use_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    ZoneLocConf *zc = zone_conf(conf, cmd);
    if (zc->shm_zone != NGX_CONF_UNSET_PTR) {
        return const_cast<char *>("is duplicate");
    }
    ngx_str_t *value = static_cast<ngx_str_t *>(cf->args->elts);
    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        zc->shm_zone = nullptr;
        return NGX_CONF_OK;
    }
    // The zone may be declared further down: its size is known once the http block is read.
    zc->shm_zone = ngx_shared_memory_add(cf, &value[1], 0, &ngx_http_wa_pair_module);
    return zc->shm_zone == nullptr ? WA_PAIR_CONF_ERROR : NGX_CONF_OK;
}

char *limit_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    ZoneLocConf *zc = zone_conf(conf, cmd);
    if (zc->limits_set) {
        return const_cast<char *>("is duplicate");
    }
    try {
        ngx_str_t *value = static_cast<ngx_str_t *>(cf->args->elts);
        std::vector<std::string_view> args;
        for (ngx_uint_t i = 1; i < cf->args->nelts; i++) {
            args.push_back(view(value[i]));
        }
        wa_pair::LimitsParse parsed = wa_pair::parse_limits(args.data(), args.size());
        if (!parsed.error.empty()) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in \"%V\"", parsed.error.c_str(), &cmd->name);
            return WA_PAIR_CONF_ERROR;
        }
        zc->limits = parsed.limits;
        zc->limits_set = 1;
    } catch (...) {
        conf_log_caught(cf, cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
    return NGX_CONF_OK;
}

void zone_create_loc_conf(ZoneLocConf *conf) noexcept {
    conf->shm_zone = static_cast<ngx_shm_zone_t *>(NGX_CONF_UNSET_PTR);
    conf->reuse = NGX_CONF_UNSET;
    conf->reuse_margin = NGX_CONF_UNSET_MSEC;
    conf->limits_set = 0;
    new (&conf->limits) wa_pair::Limits();
}

char *zone_merge_loc_conf(ngx_conf_t *cf, ZoneLocConf *prev, ZoneLocConf *conf, bool wa_pair_location) noexcept {
    ngx_conf_merge_ptr_value(conf->shm_zone, prev->shm_zone, nullptr);
    ngx_conf_merge_value(conf->reuse, prev->reuse, 1);
    ngx_conf_merge_msec_value(conf->reuse_margin, prev->reuse_margin, 15000);
    if (!conf->limits_set && prev->limits_set) {
        conf->limits = prev->limits;
        conf->limits_set = 1;
    }
    if (conf->shm_zone != nullptr && conf->shm_zone->data == nullptr) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"wa_pair_zone_use\" names an unknown zone \"%V\": declare it with \"wa_pair_zone\"",
                           &conf->shm_zone->shm.name);
        return WA_PAIR_CONF_ERROR;
    }
    if (wa_pair_location && conf->limits.any() && conf->shm_zone == nullptr) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"wa_pair_limit\" requires \"wa_pair_zone_use\"");
        return WA_PAIR_CONF_ERROR;
    }
    return NGX_CONF_OK;
}

// ---------------------------------------------------------------- the request flow

bool zone_before_backend(ngx_http_request_t *r, RequestCtx *ctx, bool refresh) noexcept {
    wa_pair_loc_conf_t *lcf = loc_conf(r);
    ngx_shm_zone_t *shm_zone = lcf->zone.shm_zone;
    if (shm_zone == nullptr) {
        return false;
    }
    ZoneRequest &zr = ctx->zone;
    try {
        auto *z = static_cast<ZoneCtx *>(shm_zone->data);
        zr.zone = z;
        zr.log = r->connection->log;
        zr.device_id = ctx->device_id;
        auto now = static_cast<std::int64_t>(ngx_current_msec);
        std::optional<wa_pair::PhoneHash> phone;
        if (!ctx->device_id.empty() && ctx->device_id.size() <= kMaxIdLen) {
            phone = wa_pair::hash_phone(zone_phone_key(z), ctx->phone);
        }
        if (!phone) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "wa_pair_zone \"%V\": no key for this request (HMAC failed): refused "
                          "rather than called without the edge policy",
                          &shm_zone->shm.name);
            ngx_http_finalize_request(r, answer_unavailable(r, 1));
            return true;
        }
        zr.phone = *phone;
        Consulted c = consult(z, zr, refresh, policy_config(lcf), now);
        warn(z, r->connection->log, c);
        if (!c.ok) {  // fail closed, as limit_req does: never a call without the policy
            metrics_refused(r, wa_pair::metrics::Refusal::zone_full);
            ngx_http_finalize_request(r, answer_unavailable(r, wa_pair::seconds_until(c.retry_at, now)));
            return true;
        }

        const wa_pair::Decision &d = c.decision;
        ngx_int_t rc;
        switch (d.verdict) {
        case wa_pair::Verdict::proceed:
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "wa_pair zone: call %uL",
                           static_cast<uint64_t>(d.flight));
            zr.caller = true;
            zr.flight = d.flight;
            zr.cache = CacheStatus::miss;
            return false;
        case wa_pair::Verdict::reuse:
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "wa_pair zone: reuse, %l s left", d.seconds);
            zr.cache = CacheStatus::hit;
            rc = send_envelope(r, NGX_HTTP_OK, wa_pair::success_envelope(d.code, d.seconds));
            break;
        case wa_pair::Verdict::wait:
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "wa_pair zone: waiting for call %uL",
                           static_cast<uint64_t>(d.flight));
            zr.cache = CacheStatus::coalesced;
            zr.start_waiting(metrics_waiting_cell(r));
            zr.flight = d.flight;
            zr.deadline = d.deadline;
            park(r, zr, now);
            return true;
        case wa_pair::Verdict::conflict:
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "wa_pair zone: conflict");
            metrics_refused(r, wa_pair::metrics::Refusal::in_progress);
            rc = send_failure(r, {NGX_HTTP_CONFLICT, std::string(kInProgress)});
            break;
        case wa_pair::Verdict::linked:  // the engine's events said so (ngx_wa_pair_events.cpp)
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "wa_pair zone: the device is linked");
            ctx->outcome = wa_pair::Outcome::already_logged_in;
            rc = send_failure(r, {NGX_HTTP_CONFLICT, std::string(kAlreadyLinked)});
            break;
        default:
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "wa_pair zone: limited, retry after %l s",
                           d.seconds);
            if (const auto why = wa_pair::metrics::refusal_of(d.limit)) {
                metrics_refused(r, *why);
            }
            rc = answer_limited(r, d.seconds);
            break;
        }
        ngx_http_finalize_request(r, rc);
        return true;
    } catch (...) {
        log_caught(r->connection->log, "the edge policy");
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return true;
    }
}

void zone_after_backend(RequestCtx *ctx, const wa_pair::PairCode &pc) noexcept {
    ZoneRequest &zr = ctx->zone;
    if (!zr.caller || zr.zone == nullptr) {
        return;
    }
    zr.caller = false;
    wa_pair::CallResult o{};
    if (!pc.failure) {
        o.status = NGX_HTTP_OK;
        o.seconds = static_cast<std::int32_t>(std::clamp<long>(pc.timeout, 0, 86400));
        ngx_memcpy(o.code, pc.code.data(), std::min(pc.code.size(), wa_pair::kPairCodeSize - 1));
    } else {
        o.status = pc.failure.code;
        if (pc.failure.code == NGX_HTTP_TOO_MANY_REQUESTS) {
            o.seconds = static_cast<std::int32_t>(std::clamp<long>(pc.retry_after, 0, 86400));
        }
    }
    record(zr.zone, zr, o, pc.failure ? std::string_view(pc.failure.error) : std::string_view(),
           static_cast<std::int64_t>(ngx_current_msec));
}

}  // namespace ngx_wa_pair
