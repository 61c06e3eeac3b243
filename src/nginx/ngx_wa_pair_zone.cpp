// The edge policy in nginx (docs/edge-policy.md): a shared memory zone that every worker consults after
// the body is parsed and before the backend call. Like limit_req's: a slab pool, an rbtree
// keyed by a hash of the entry's id (the id kept for collisions), an LRU queue, the pool's
// mutex; reused by `nginx -s reload` when its size is unchanged. Two kinds of entries: a
// device (by its id) and a phone (by an HMAC of the number under the zone's random key: no
// number is stored in clear). The decisions are the core's (policy.hpp); this file keeps the
// state, parks waiting requests on a timer, answers, and names the zone in its warnings.

#include <algorithm>
#include <cstring>
#include <new>
#include <string_view>
#include <vector>

#include <openssl/rand.h>

#include "nginx/ngx_wa_pair_caught.hpp"
#include "nginx/ngx_wa_pair_conf.hpp"
#include "nginx/ngx_wa_pair_metrics.hpp"
#include "backend/session.hpp"

namespace ngx_wa_pair {

namespace {

constexpr ngx_msec_t kPollMs = 25;
// A caller records its answer when its own timeout fires; waiters give up a little later.
constexpr std::int64_t kFlightGraceMs = 1000;
// An answer stays at least this long for the waiters that look at the zone every 25 ms.
constexpr std::int64_t kResultKeepMs = 10000;
constexpr time_t kWarnEverySeconds = 60;
// How far from the cold end of the LRU queue an allocation looks for an entry the policy no
// longer needs; entries it still needs are never evicted.
constexpr int kEvictScan = 64;
// Retry-After of a request refused because the zone holds nothing it may evict, when no
// entry says when it lapses.
constexpr std::int64_t kFullRetryMs = 60000;
constexpr std::size_t kMaxText = 255;
constexpr std::size_t kMaxIdLen = 255;
constexpr std::string_view kInProgress = "A pairing request for this device is already in progress";
constexpr std::string_view kTooMany = "Too many pairing requests";
constexpr std::string_view kAlreadyLinked = "Device is already logged in";

enum EntryKind : u_char { kDevice = 1, kPhone = 2 };

struct ZoneShared {
    ngx_rbtree_t tree;
    ngx_rbtree_node_t sentinel;
    ngx_queue_t lru;         // most recently used first
    wa_pair::ZoneKey key;    // for the phone hashes; made at the first start, kept by reloads
    std::uint64_t last_flight;
    time_t warned_at;        // the last warning about this zone
    std::uint64_t evictions; // entries freed to make room (wa_pair_zone_evictions_total)
    ngx_atomic_t generation; // bumped by every change wa_pair_status shows (read without the lock)
};

struct Entry {
    ngx_rbtree_node_t node;  // first: a tree node is its entry
    ngx_queue_t lru;
    std::int64_t live_until; // evicting it before then weakens the policy
    u_char kind;
    u_char id_len;
    u_char *id;              // inside this allocation
};

struct DeviceEntry {
    Entry entry;             // first
    wa_pair::DeviceState state;
    u_char *text;            // the error text of state.result (slab); NULL: none
    std::uint16_t text_len;
    std::int64_t session_started;  // wa_pair_session_start's last start, 0: none
    u_char id[1];            // the device id, id_len bytes
};

struct PhoneEntry {
    Entry entry;             // first
    wa_pair::PhoneState state;
    u_char id[sizeof(wa_pair::PhoneHash)];
};

Entry *as_entry(ngx_rbtree_node_t *node) {
    return reinterpret_cast<Entry *>(node);
}

DeviceEntry *as_device(Entry *e) {
    return reinterpret_cast<DeviceEntry *>(e);
}

PhoneEntry *as_phone(Entry *e) {
    return reinterpret_cast<PhoneEntry *>(e);
}

std::string_view cache_text(CacheStatus s) {
    switch (s) {
    case CacheStatus::miss: return "miss";
    case CacheStatus::hit: return "hit";
    case CacheStatus::coalesced: return "coalesced";
    default: return {};
    }
}

}  // namespace

struct ZoneCtx {
    ngx_shm_zone_t *shm_zone;
    ngx_slab_pool_t *shpool;
    ZoneShared *sh;
};

namespace {

// ---------------------------------------------------------------- the zone's tree and queue

// The key of an entry: what identifies it, and where it sits in the tree.
struct Key {
    u_char kind;
    const u_char *id;
    size_t len;
    ngx_rbtree_key_t hash;
};

Key device_key(const std::string &device_id) {
    auto *id = reinterpret_cast<const u_char *>(device_id.data());
    return {kDevice, id, device_id.size(), ngx_crc32_short(const_cast<u_char *>(id), device_id.size())};
}

Key phone_key(const wa_pair::PhoneHash &hash) {
    std::uint32_t h;
    std::memcpy(&h, hash.data(), sizeof h);  // an HMAC: its first bytes are as good as any hash
    return {kPhone, hash.data(), hash.size(), h};
}

int compare(const Key &k, const Entry *e) {
    if (k.kind != e->kind) {
        return k.kind < e->kind ? -1 : 1;
    }
    if (k.len != e->id_len) {
        return k.len < e->id_len ? -1 : 1;
    }
    return ngx_memcmp(k.id, e->id, k.len);
}

void insert_value(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel) {
    Entry *e = as_entry(node);
    Key k = {e->kind, e->id, e->id_len, node->key};
    ngx_rbtree_node_t **p;
    for (;;) {
        if (node->key != temp->key) {
            p = node->key < temp->key ? &temp->left : &temp->right;
        } else {
            p = compare(k, as_entry(temp)) < 0 ? &temp->left : &temp->right;
        }
        if (*p == sentinel) {
            break;
        }
        temp = *p;
    }
    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}

// Everything below runs with the zone locked; nothing in it allocates from the C++ heap.
class ZoneLock {
public:
    explicit ZoneLock(ZoneCtx *z) : pool_(z->shpool) { ngx_shmtx_lock(&pool_->mutex); }
    ~ZoneLock() { ngx_shmtx_unlock(&pool_->mutex); }
    ZoneLock(const ZoneLock &) = delete;
    ZoneLock &operator=(const ZoneLock &) = delete;

private:
    ngx_slab_pool_t *pool_;
};

struct Locked {
    ZoneCtx *z;
    std::int64_t now;
    ngx_uint_t evicted = 0;
    std::int64_t first_lapse = 0;  // a full zone: when its first live entry scanned lapses

    Entry *find(const Key &k) {
        ngx_rbtree_node_t *node = z->sh->tree.root;
        ngx_rbtree_node_t *sentinel = z->sh->tree.sentinel;
        while (node != sentinel) {
            if (k.hash != node->key) {
                node = k.hash < node->key ? node->left : node->right;
                continue;
            }
            int rc = compare(k, as_entry(node));
            if (rc == 0) {
                return as_entry(node);
            }
            node = rc < 0 ? node->left : node->right;
        }
        return nullptr;
    }

    void touch(Entry *e) {
        ngx_queue_remove(&e->lru);
        ngx_queue_insert_head(&z->sh->lru, &e->lru);
    }

    void free_text(DeviceEntry *d) {
        if (d->text != nullptr) {
            ngx_slab_free_locked(z->shpool, d->text);
            d->text = nullptr;
            d->text_len = 0;
        }
    }

    void free_entry(Entry *e) {
        if (e->kind == kDevice) {
            free_text(as_device(e));
        }
        ngx_rbtree_delete(&z->sh->tree, &e->node);
        ngx_queue_remove(&e->lru);
        ngx_slab_free_locked(z->shpool, e);
    }

    // Entries at the end of the queue that no longer matter go (two at most per request,
    // as limit_req does): the zone stays small without a sweeper.
    void expire() {
        for (int i = 0; i < 2 && !ngx_queue_empty(&z->sh->lru); i++) {
            Entry *e = ngx_queue_data(ngx_queue_last(&z->sh->lru), Entry, lru);
            if (e->live_until > now) {
                return;
            }
            free_entry(e);
        }
    }

    // Allocates, evicting while the zone is full the least recently used entries the policy
    // no longer needs; never one it still needs (a limit, a code, a call in flight: a spray of
    // requests must not reset another device's state), nor one of `pinned`. NULL when none
    // is left to evict: the caller refuses the request rather than go on without the policy.
    void *alloc(size_t size, const Entry *pin1, const Entry *pin2) {
        for (;;) {
            void *p = ngx_slab_calloc_locked(z->shpool, size);
            if (p != nullptr) {
                return p;
            }
            Entry *victim = nullptr;
            int scanned = 0;
            for (ngx_queue_t *q = ngx_queue_last(&z->sh->lru);
                 q != ngx_queue_sentinel(&z->sh->lru) && scanned < kEvictScan; q = ngx_queue_prev(q), scanned++) {
                Entry *e = ngx_queue_data(q, Entry, lru);
                if (e == pin1 || e == pin2) {
                    continue;
                }
                if (e->live_until <= now) {
                    victim = e;
                    break;
                }
                if (first_lapse == 0 || e->live_until < first_lapse) {
                    first_lapse = e->live_until;
                }
            }
            if (victim == nullptr) {
                return nullptr;
            }
            evicted++;
            z->sh->evictions++;
            free_entry(victim);
        }
    }

    Entry *create(const Key &k, const Entry *pinned) {
        size_t size = k.kind == kDevice ? offsetof(DeviceEntry, id) + k.len : sizeof(PhoneEntry);
        auto *e = static_cast<Entry *>(alloc(size, pinned, nullptr));
        if (e == nullptr) {
            return nullptr;
        }
        e->kind = k.kind;
        e->id_len = static_cast<u_char>(k.len);
        e->id = k.kind == kDevice ? as_device(e)->id : as_phone(e)->id;
        ngx_memcpy(e->id, k.id, k.len);
        e->node.key = k.hash;
        e->live_until = now;
        ngx_rbtree_insert(&z->sh->tree, &e->node);
        ngx_queue_insert_head(&z->sh->lru, &e->lru);
        return e;
    }

    // true at most once a minute per zone, for whatever warning is due
    bool may_warn() {
        time_t t = ngx_time();
        if (t - z->sh->warned_at < kWarnEverySeconds) {
            return false;
        }
        z->sh->warned_at = t;
        return true;
    }
};

// ---------------------------------------------------------------- operations on the zone

struct Consulted {
    bool ok = false;      // false: the zone has no room for the entries a call needs
    bool warn = false;
    ngx_uint_t evicted = 0;
    std::int64_t retry_at = 0;  // !ok: when room may come back
    wa_pair::Decision decision;
};

// Decides on the entries the zone has, or on empty ones: only a request that proceeds creates
// entries, so refused requests (429, 409) leave nothing behind for a spray to fill the zone
// with; the policy bounds the numbers one device may hold (policy.hpp).
Consulted consult(ZoneCtx *z, const ZoneRequest &zr, bool refresh, const wa_pair::PolicyConfig &config,
                  std::int64_t now) noexcept {
    Consulted out;
    ZoneLock lock(z);
    Locked l{z, now};
    l.expire();

    Key dk = device_key(zr.device_id);
    Key pk = phone_key(zr.phone);
    Entry *dev = l.find(dk);
    Entry *ph = l.find(pk);
    wa_pair::DeviceState device = dev != nullptr ? as_device(dev)->state : wa_pair::DeviceState{};
    wa_pair::PhoneState phone = ph != nullptr ? as_phone(ph)->state : wa_pair::PhoneState{};
    std::uint64_t next = z->sh->last_flight + 1;
    if (next == 0) {
        next = 1;
    }
    out.decision = wa_pair::decide(device, phone, zr.phone, refresh, config, next, now);

    if (out.decision.verdict == wa_pair::Verdict::proceed) {
        Entry *created = nullptr;
        if (dev == nullptr) {
            dev = created = l.create(dk, ph);
        }
        if (dev != nullptr && ph == nullptr) {
            ph = l.create(pk, dev);
        }
        out.evicted = l.evicted;
        if (dev == nullptr || ph == nullptr) {  // full of what the policy needs: refuse
            if (created != nullptr) {
                l.free_entry(created);
            }
            out.retry_at = l.first_lapse > now ? l.first_lapse : now + kFullRetryMs;
            out.warn = l.may_warn();
            return out;
        }
        z->sh->last_flight = next;
        ngx_atomic_fetch_add(&z->sh->generation, 1);  // its live code is gone
    }
    if (dev != nullptr) {
        as_device(dev)->state = device;
        dev->live_until = std::max(dev->live_until, wa_pair::live_until(device, config.limits));
        l.touch(dev);
    }
    if (ph != nullptr) {
        as_phone(ph)->state = phone;
        ph->live_until = std::max(ph->live_until, wa_pair::live_until(phone, config.limits));
        l.touch(ph);
    }
    out.ok = true;
    return out;
}

// What a waiter finds when it looks.
struct Polled {
    wa_pair::WaitState state = wa_pair::WaitState::gone;
    wa_pair::CallResult outcome{};
    char text[kMaxText + 1] = {};
};

void poll_zone(ZoneCtx *z, const ZoneRequest &zr, std::int64_t now, Polled &out) noexcept {
    ZoneLock lock(z);
    Locked l{z, now};
    Entry *dev = l.find(device_key(zr.device_id));
    if (dev == nullptr) {  // evicted
        out.state = now >= zr.deadline ? wa_pair::WaitState::timed_out : wa_pair::WaitState::gone;
        return;
    }
    DeviceEntry *d = as_device(dev);
    out.state = wa_pair::poll_flight(d->state, zr.flight, zr.deadline, now);
    if (out.state == wa_pair::WaitState::answered) {
        out.outcome = d->state.result;
        if (d->text != nullptr) {
            ngx_memcpy(out.text, d->text, std::min<size_t>(d->text_len, kMaxText));
        }
    }
}

bool record(ZoneCtx *z, const ZoneRequest &zr, const wa_pair::CallResult &outcome, std::string_view text,
            std::int64_t now) noexcept {
    ZoneLock lock(z);
    Locked l{z, now};
    Entry *dev = l.find(device_key(zr.device_id));
    if (dev == nullptr) {
        return false;  // evicted meanwhile: its waiters decide again
    }
    Entry *ph = l.find(phone_key(zr.phone));
    DeviceEntry *d = as_device(dev);
    bool current = wa_pair::record_outcome(d->state, ph ? &as_phone(ph)->state : nullptr, zr.flight,
                                           outcome, now);
    l.touch(dev);
    dev->live_until = std::max({dev->live_until, now + kResultKeepMs, d->state.cooldown_until,
                                d->state.code[0] ? d->state.code_expires : 0});
    if (ph != nullptr) {
        ph->live_until = std::max(ph->live_until, as_phone(ph)->state.cooldown_until);
    }
    if (current) {
        ngx_atomic_fetch_add(&z->sh->generation, 1);  // a new live code, perhaps
        l.free_text(d);
        if (outcome.status != 200 && !text.empty()) {
            size_t len = std::min(text.size(), kMaxText);
            auto *t = static_cast<u_char *>(l.alloc(len, dev, ph));
            if (t != nullptr) {
                ngx_memcpy(t, text.data(), len);
                d->text = t;
                d->text_len = static_cast<std::uint16_t>(len);
            }
        }
    }
    return current;
}

void abandon_flight(ZoneCtx *z, const ZoneRequest &zr) noexcept {
    ZoneLock lock(z);
    Locked l{z, static_cast<std::int64_t>(ngx_current_msec)};
    Entry *dev = l.find(device_key(zr.device_id));
    if (dev != nullptr) {
        wa_pair::abandon(as_device(dev)->state, zr.flight);
    }
}

ngx_int_t init_zone(ngx_shm_zone_t *shm_zone, void *data) noexcept {
    auto *ctx = static_cast<ZoneCtx *>(shm_zone->data);
    auto *old = static_cast<ZoneCtx *>(data);
    if (old != nullptr) {  // reload, same size: the state goes on
        ctx->shpool = old->shpool;
        ctx->sh = old->sh;
        return NGX_OK;
    }
    ctx->shpool = reinterpret_cast<ngx_slab_pool_t *>(shm_zone->shm.addr);
    if (shm_zone->shm.exists) {
        ctx->sh = static_cast<ZoneShared *>(ctx->shpool->data);
        return NGX_OK;
    }
    ctx->sh = static_cast<ZoneShared *>(ngx_slab_calloc(ctx->shpool, sizeof(ZoneShared)));
    if (ctx->sh == nullptr) {
        return NGX_ERROR;
    }
    ctx->shpool->data = ctx->sh;
    ngx_rbtree_init(&ctx->sh->tree, &ctx->sh->sentinel, insert_value);
    ngx_queue_init(&ctx->sh->lru);
    if (RAND_bytes(ctx->sh->key.data(), static_cast<int>(ctx->sh->key.size())) != 1) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "wa_pair_zone \"%V\": RAND_bytes() failed", &shm_zone->shm.name);
        return NGX_ERROR;
    }
    static constexpr char kLogCtx[] = " in wa_pair_zone \"\"";
    size_t len = sizeof(kLogCtx) + shm_zone->shm.name.len;
    ctx->shpool->log_ctx = static_cast<u_char *>(ngx_slab_alloc(ctx->shpool, len));
    if (ctx->shpool->log_ctx == nullptr) {
        return NGX_ERROR;
    }
    ngx_sprintf(ctx->shpool->log_ctx, " in wa_pair_zone \"%V\"%Z", &shm_zone->shm.name);
    ctx->shpool->log_nomem = 0;  // a full zone is normal: the module evicts and warns itself
    return NGX_OK;
}

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
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0, "wa_pair zone \"%V\": evicted %ui entries",
                       &z->shm_zone->shm.name, c.evicted);
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

// ---------------------------------------------------------------- $wa_pair_cache

ngx_int_t cache_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data) noexcept {
    (void) data;
    RequestCtx *ctx = get_ctx(r);
    std::string_view s = ctx ? cache_text(ctx->zone.cache) : std::string_view();
    if (s.empty()) {
        v->not_found = 1;
        return NGX_OK;
    }
    v->len = static_cast<unsigned>(s.size());
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = reinterpret_cast<u_char *>(const_cast<char *>(s.data()));
    return NGX_OK;
}

ZoneLocConf *zone_conf(void *conf, ngx_command_t *cmd) {
    return reinterpret_cast<ZoneLocConf *>(static_cast<char *>(conf) + cmd->offset);
}

char *check_margin(ngx_conf_t *cf, void *post, void *data) noexcept {
    (void) cf;
    (void) post;
    return *static_cast<ngx_msec_t *>(data) > 86400000 ? const_cast<char *>("must not exceed 1d") : NGX_CONF_OK;
}

}  // namespace

ngx_conf_post_t zone_reuse_margin_post = {check_margin};

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
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, log, 0, "wa_pair zone: a call ended unrecorded, its waiters decide again");
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
    (void) conf;
    ngx_str_t *value = static_cast<ngx_str_t *>(cf->args->elts);
    ngx_str_t arg = value[1];
    u_char *colon = static_cast<u_char *>(ngx_strlchr(arg.data, arg.data + arg.len, ':'));
    if (colon == nullptr || colon == arg.data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"%V\" (name:size, as in pairing:1m)",
                           &arg, &cmd->name);
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
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "zone \"%V\" of \"%V\" is too small (at least %uzk)", &arg,
                           &cmd->name, 8 * ngx_pagesize / 1024);
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

char *zone_merge_loc_conf(ngx_conf_t *cf, ZoneLocConf *prev, ZoneLocConf *conf,
                          bool wa_pair_location) noexcept {
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

ngx_int_t zone_add_variables(ngx_conf_t *cf) noexcept {
    ngx_str_t name = ngx_string("wa_pair_cache");
    ngx_http_variable_t *var = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == nullptr) {
        return NGX_ERROR;
    }
    var->get_handler = cache_variable;
    var->data = 0;
    return NGX_OK;
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
            phone = wa_pair::hash_phone(z->sh->key, ctx->phone);
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

// ---------------------------------------------------------------- metrics

bool zone_stats(ngx_shm_zone_t *shm_zone, ZoneStats &out) noexcept {
    if (shm_zone == nullptr || shm_zone->tag != &ngx_http_wa_pair_module || shm_zone->data == nullptr) {
        return false;
    }
    auto *z = static_cast<ZoneCtx *>(shm_zone->data);
    if (z->sh == nullptr) {
        return false;
    }
    auto now = static_cast<std::int64_t>(ngx_current_msec);
    ZoneLock lock(z);
    out = ZoneStats{};
    for (ngx_queue_t *q = ngx_queue_head(&z->sh->lru); q != ngx_queue_sentinel(&z->sh->lru); q = ngx_queue_next(q)) {
        Entry *e = ngx_queue_data(q, Entry, lru);
        if (e->kind == kPhone) {
            out.numbers++;
            continue;
        }
        out.devices++;
        const wa_pair::DeviceState &d = as_device(e)->state;
        if (d.flight != 0 && now < d.flight_deadline) {
            out.calls_in_flight++;
        }
    }
    out.bytes_size = shm_zone->shm.size;
    const std::uint64_t free_bytes = static_cast<std::uint64_t>(z->shpool->pfree) * ngx_pagesize;
    out.bytes_used = free_bytes < out.bytes_size ? out.bytes_size - free_bytes : 0;
    out.evictions = z->sh->evictions;
    return true;
}

// ---------------------------------------------------------------- pairing completion

// Events only change a device the zone holds: they never allocate, so a spray of events for
// made-up devices stores nothing and evicts nothing.
EventOutcome zone_apply_event(ngx_shm_zone_t *shm_zone, std::string_view device_id,
                              const wa_pair::EventChange &change, std::int64_t now) noexcept {
    auto *z = static_cast<ZoneCtx *>(shm_zone->data);
    if (device_id.empty() || device_id.size() > kMaxIdLen) {
        return EventOutcome::unknown_device;
    }
    ZoneLock lock(z);
    Locked l{z, now};
    auto *id = reinterpret_cast<const u_char *>(device_id.data());
    Key k = {kDevice, id, device_id.size(), ngx_crc32_short(const_cast<u_char *>(id), device_id.size())};
    Entry *dev = l.find(k);
    if (dev == nullptr) {
        return EventOutcome::unknown_device;
    }
    wa_pair::DeviceState &state = as_device(dev)->state;
    switch (wa_pair::apply_event(state, change, now)) {
    case wa_pair::EventApplied::stale:
        return EventOutcome::stale;
    case wa_pair::EventApplied::unchanged:
        return EventOutcome::unchanged;
    case wa_pair::EventApplied::changed:
        break;
    }
    dev->live_until = std::max({dev->live_until, state.linked_until, state.code[0] ? state.code_expires : 0});
    l.touch(dev);
    ngx_atomic_fetch_add(&z->sh->generation, 1);
    return EventOutcome::changed;
}

wa_pair::PairingStatus zone_pairing_status(ngx_shm_zone_t *shm_zone, std::string_view device_id,
                                           std::int64_t now) noexcept {
    auto *z = static_cast<ZoneCtx *>(shm_zone->data);
    if (device_id.empty() || device_id.size() > kMaxIdLen) {
        return {};
    }
    ZoneLock lock(z);
    Locked l{z, now};
    auto *id = reinterpret_cast<const u_char *>(device_id.data());
    Key k = {kDevice, id, device_id.size(), ngx_crc32_short(const_cast<u_char *>(id), device_id.size())};
    Entry *dev = l.find(k);
    return dev != nullptr ? wa_pair::pairing_status(as_device(dev)->state, now) : wa_pair::PairingStatus{};
}

ngx_atomic_uint_t zone_generation(ngx_shm_zone_t *shm_zone) noexcept {
    return static_cast<ZoneCtx *>(shm_zone->data)->sh->generation;
}

bool is_policy_zone(ngx_shm_zone_t *shm_zone) noexcept {
    return shm_zone != nullptr && shm_zone->tag == &ngx_http_wa_pair_module && shm_zone->data != nullptr &&
           shm_zone->init == init_zone;
}

bool zone_claim_session_start(RequestCtx *ctx, std::int64_t now, std::int64_t window_ms,
                              std::int64_t &retry_at, bool &recorded) noexcept {
    ZoneRequest &zr = ctx->zone;
    recorded = false;
    if (zr.zone == nullptr || zr.device_id.empty()) {
        return false;
    }
    ZoneLock lock(zr.zone);
    Locked l{zr.zone, now};
    Entry *dev = l.find(device_key(zr.device_id));
    if (dev == nullptr) {  // evicted meanwhile: the caller keeps the start itself
        return false;
    }
    recorded = true;
    DeviceEntry *d = as_device(dev);
    const bool granted = wa_pair::claim_start(d->session_started, now, window_ms, retry_at);
    if (granted) {
        dev->live_until = std::max(dev->live_until, now + window_ms);  // kept while it counts
    }
    return granted;
}

}  // namespace ngx_wa_pair
