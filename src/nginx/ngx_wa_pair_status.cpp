// `wa_pair_status;`: GET, the same authentication as wa_pair, the caller's own
// device as the zone knows it: {"status":true,"code":200,"message":"Pairing status",
// "data":{"state":"none|pending|linked","timeout":N}}. `?wait=N` (1..60 s) holds the request
// until that changes (another state, or another live code) or N seconds pass.
//
// Waiting costs no CPU of its own: a waiting request has one timer, for its end or for the
// moment time alone changes its state (its code expires, its link lapses). What other workers
// change is seen through the zone's generation counter, which one timer per worker reads every
// 25 ms without the zone's lock (workers share no other way to wake each other); only when it
// moved do the worker's waiters look at their devices again.

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

#include "nginx/ngx_wa_pair_caught.hpp"
#include "nginx/ngx_wa_pair_conf.hpp"
#include "edge/pairing_status.hpp"

namespace ngx_wa_pair {

namespace {

constexpr ngx_msec_t kWatchMs = 25;

// In the request's pool. Standard layout: its timer's handler finds it from the event (the
// event's data is the request's connection, which nginx's debug log reads).
struct StatusWait {
    ngx_queue_t link;  // in the worker's list while it waits
    bool queued;
    ngx_http_request_t *r;
    ngx_shm_zone_t *zone;
    wa_pair::PairingStatus seen;  // what the request would have been answered
    ngx_atomic_uint_t generation;
    std::int64_t wait_end;
    ngx_event_t timer;  // its end, or when time alone changes its state
    size_t device_len;
    char device[256];  // the device id (authentication allows 1..128 bytes)

    std::string_view device_id() const { return {device, device_len}; }
};

static_assert(std::is_standard_layout<StatusWait>::value, "the timer finds its StatusWait by offsetof");

// This worker's waiters, and the timer that watches the zones' generations for them.
struct Watch {
    ngx_queue_t waiters;
    ngx_event_t tick;
    bool ready = false;
};

Watch watch;
ngx_connection_t watch_connection;  // the tick's event data, for nginx's debug log (fd 0: none)

void answer(StatusWait *w) noexcept;
void arm(StatusWait *w, std::int64_t now);

void tick_handler(ngx_event_t *ev) noexcept {
    (void)ev;
    ngx_queue_t *q = ngx_queue_head(&watch.waiters);
    while (q != ngx_queue_sentinel(&watch.waiters)) {
        StatusWait *w = ngx_queue_data(q, StatusWait, link);
        q = ngx_queue_next(q);  // answering takes w out of the list
        if (ngx_exiting || ngx_terminate || ngx_quit) {
            answer(w);  // a worker that shuts down answers what it knows: the client asks again
            continue;
        }
        const ngx_atomic_uint_t g = zone_generation(w->zone);
        if (g == w->generation) {
            continue;
        }
        w->generation = g;
        const auto now = static_cast<std::int64_t>(ngx_current_msec);
        if (wa_pair::status_changed(w->seen, zone_pairing_status(w->zone, w->device_id(), now))) {
            answer(w);
        }
    }
    if (!ngx_queue_empty(&watch.waiters) && !watch.tick.timer_set) {
        ngx_add_timer(&watch.tick, kWatchMs);
    }
}

void unqueue(StatusWait *w) noexcept {
    if (w->queued) {
        ngx_queue_remove(&w->link);
        w->queued = false;
    }
    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }
    if (w->timer.posted) {
        ngx_delete_posted_event(&w->timer);
    }
}

void cleanup(void *data) noexcept {  // the request ends (answered, or its client left)
    unqueue(static_cast<StatusWait *>(data));
}

ngx_int_t send_status(ngx_http_request_t *r, const wa_pair::PairingStatus &s) {
    return send_envelope(r, NGX_HTTP_OK, wa_pair::status_envelope(s));
}

void answer(StatusWait *w) noexcept {
    ngx_http_request_t *r = w->r;
    ngx_connection_t *c = r->connection;
    unqueue(w);
    ngx_int_t rc;
    try {
        r->read_event_handler = ngx_http_block_reading;
        rc = send_status(r, zone_pairing_status(w->zone, w->device_id(), static_cast<std::int64_t>(ngx_current_msec)));
    } catch (...) {
        log_caught(c->log, "wa_pair_status wait");
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}

void timer_handler(ngx_event_t *ev) noexcept {
    auto *w = reinterpret_cast<StatusWait *>(reinterpret_cast<char *>(ev) - offsetof(StatusWait, timer));
    const auto now = static_cast<std::int64_t>(ngx_current_msec);
    const wa_pair::PairingStatus s = zone_pairing_status(w->zone, w->device_id(), now);
    if (now >= w->wait_end || wa_pair::status_changed(w->seen, s)) {
        answer(w);
        return;
    }
    w->seen = s;
    arm(w, now);
}

void arm(StatusWait *w, std::int64_t now) {
    std::int64_t at = w->wait_end;
    if (w->seen.changes_at != 0) {
        at = std::min(at, w->seen.changes_at);
    }
    ngx_add_timer(&w->timer, static_cast<ngx_msec_t>(std::max<std::int64_t>(at - now, 1)));
}

// Holds the request; NGX_DONE, or an error code when it cannot.
ngx_int_t park(ngx_http_request_t *r, RequestCtx *ctx, ngx_shm_zone_t *zone, const wa_pair::PairingStatus &now_status,
               long wait_seconds) {
    if (ctx->device_id.size() > sizeof(StatusWait::device)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(r->pool, 0);
    auto *w = cln ? static_cast<StatusWait *>(ngx_pcalloc(r->pool, sizeof(StatusWait))) : nullptr;
    if (w == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    cln->handler = cleanup;
    cln->data = w;
    const auto now = static_cast<std::int64_t>(ngx_current_msec);
    w->r = r;
    w->zone = zone;
    w->device_len = ctx->device_id.size();
    ngx_memcpy(w->device, ctx->device_id.data(), w->device_len);
    w->seen = now_status;
    w->generation = zone_generation(zone);
    w->wait_end = now + static_cast<std::int64_t>(wait_seconds) * 1000;
    w->timer.handler = timer_handler;
    w->timer.data = r->connection;
    w->timer.log = r->connection->log;
    if (!watch.ready) {
        ngx_queue_init(&watch.waiters);
        watch.tick.handler = tick_handler;
        watch.tick.data = &watch_connection;
        watch.tick.log = ngx_cycle->log;
        watch.tick.cancelable = 1;  // an idle watch keeps no exiting worker alive
        watch.ready = true;
    }
    ngx_queue_insert_tail(&watch.waiters, &w->link);
    w->queued = true;
    if (!watch.tick.timer_set) {
        ngx_add_timer(&watch.tick, kWatchMs);
    }
    arm(w, now);
    // A client that leaves ends the request (and the cleanup above takes it out of the list).
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;
    r->main->count++;
    return NGX_DONE;
}

ngx_int_t status_handler(ngx_http_request_t *r) noexcept {
    try {
        wa_pair_loc_conf_t *lcf = loc_conf(r);
        RequestCtx *ctx = request_ctx(r);
        if (ctx == nullptr) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        r->error_page = 1;
        if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
            if (!add_header(r, "Allow", "GET, HEAD")) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
            return reject(r, {NGX_HTTP_NOT_ALLOWED, "Only GET is allowed"});
        }
        if (ctx->auth_method.empty()) {
            ngx_int_t rc = authenticate(r, lcf, ctx);
            if (rc != NGX_DECLINED) {
                return rc;
            }
        }
        long wait_seconds = 0;
        ngx_str_t arg;
        if (ngx_http_arg(r, reinterpret_cast<u_char *>(const_cast<char *>("wait")), 4, &arg) == NGX_OK) {
            const std::optional<long> wait = wa_pair::parse_wait_seconds(view(arg));
            if (!wait) {
                return reject(r, {NGX_HTTP_BAD_REQUEST, std::string(wa_pair::kBadWait)});
            }
            wait_seconds = *wait;
        }
        ngx_int_t rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }
        ngx_shm_zone_t *zone = lcf->zone.shm_zone;
        const wa_pair::PairingStatus s =
            zone_pairing_status(zone, ctx->device_id, static_cast<std::int64_t>(ngx_current_msec));
        if (wait_seconds == 0) {
            return send_status(r, s);
        }
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "wa_pair_status: waiting up to %l s", wait_seconds);
        return park(r, ctx, zone, s, wait_seconds);
    } catch (...) {
        log_caught(r->connection->log, "wa_pair_status handler");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}

}  // namespace

void status_wake_local() noexcept {
    if (watch.ready && !ngx_queue_empty(&watch.waiters) && !watch.tick.posted) {
        ngx_post_event(&watch.tick, &ngx_posted_events);
    }
}

char *status_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    (void)cmd;
    EventsLocConf &ec = static_cast<wa_pair_loc_conf_t *>(conf)->events;
    if (ec.status) {
        return const_cast<char *>("is duplicate");
    }
    ec.status = 1;
    auto *clcf = static_cast<ngx_http_core_loc_conf_t *>(ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    clcf->handler = status_handler;
    return NGX_CONF_OK;
}

}  // namespace ngx_wa_pair
