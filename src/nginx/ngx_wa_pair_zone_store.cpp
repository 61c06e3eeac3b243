// The pairing zone's store (docs/architecture.md §4): its layout in shared memory, the tree
// and LRU queue under the pool's mutex, allocation that evicts only what the policy no longer
// needs, and every operation a request, an event or a scrape does on it. The request flow
// that uses it (answers, waiting requests, directives) is ngx_wa_pair_zone.cpp.

#include <algorithm>
#include <cstring>
#include <new>
#include <string_view>

#include <openssl/rand.h>

#include "nginx/ngx_wa_pair_zone_store.hpp"
#include "backend/session.hpp"

namespace ngx_wa_pair {

namespace {

// An answer stays at least this long for the waiters that look at the zone every 25 ms.
constexpr std::int64_t kResultKeepMs = 10000;
constexpr time_t kWarnEverySeconds = 60;
// How far from the cold end of the LRU queue an allocation looks for an entry the policy no
// longer needs; entries it still needs are never evicted.
constexpr int kEvictScan = 64;
// Retry-After of a request refused because the zone holds nothing it may evict, when no
// entry says when it lapses.
constexpr std::int64_t kFullRetryMs = 60000;

enum EntryKind : u_char { kDevice = 1, kPhone = 2 };

}  // namespace

struct ZoneShared {
    ngx_rbtree_t tree;
    ngx_rbtree_node_t sentinel;
    ngx_queue_t lru;       // most recently used first
    wa_pair::ZoneKey key;  // for the phone hashes; made at the first start, kept by reloads
    std::uint64_t last_flight;
    time_t warned_at;         // the last warning about this zone
    std::uint64_t evictions;  // entries freed to make room (wa_pair_zone_evictions_total)
    ngx_atomic_t generation;  // bumped by every change wa_pair_status shows (read without the lock)
};

namespace {

struct Entry {
    ngx_rbtree_node_t node;  // first: a tree node is its entry
    ngx_queue_t lru;
    std::int64_t live_until;  // evicting it before then weakens the policy
    u_char kind;
    u_char id_len;
    u_char *id;  // inside this allocation
};

struct DeviceEntry {
    Entry entry;  // first
    wa_pair::DeviceState state;
    u_char *text;  // the error text of state.result (slab); NULL: none
    std::uint16_t text_len;
    std::int64_t session_started;            // wa_pair_session_start's last start, 0: none
    wa_pair::EvolutionConnection evolution;  // its Evolution instance's connection, since 0: none
    u_char id[1];                            // the device id, id_len bytes
};

struct PhoneEntry {
    Entry entry;  // first
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

}  // namespace

// ---------------------------------------------------------------- operations on the zone

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
    bool current = wa_pair::record_outcome(d->state, ph ? &as_phone(ph)->state : nullptr, zr.flight, outcome, now);
    l.touch(dev);
    dev->live_until = std::max(
        {dev->live_until, now + kResultKeepMs, d->state.cooldown_until, d->state.code[0] ? d->state.code_expires : 0});
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

const wa_pair::ZoneKey &zone_phone_key(const ZoneCtx *z) noexcept {
    return z->sh->key;
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
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0, "wa_pair_zone \"%V\": RAND_bytes() failed",
                      &shm_zone->shm.name);
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
EventOutcome zone_apply_event(ngx_shm_zone_t *shm_zone, std::string_view device_id, const wa_pair::EventChange &change,
                              std::int64_t now) noexcept {
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

namespace {

// Runs `f` on the request's device entry, under the zone's lock; nullopt when the request has
// no entry in a zone (none used, or evicted meanwhile: the caller keeps its record itself).
template <class F>
auto on_device_entry(RequestCtx *ctx, std::int64_t now, F f) -> std::optional<decltype(f(nullptr))> {
    ZoneRequest &zr = ctx->zone;
    if (zr.zone == nullptr || zr.device_id.empty()) {
        return std::nullopt;
    }
    ZoneLock lock(zr.zone);
    Locked l{zr.zone, now};
    Entry *dev = l.find(device_key(zr.device_id));
    if (dev == nullptr) {
        return std::nullopt;
    }
    return f(dev);
}

}  // namespace

std::optional<wa_pair::StartClaim> zone_claim_session_start(RequestCtx *ctx, std::int64_t now,
                                                            std::int64_t window_ms) noexcept {
    return on_device_entry(ctx, now, [&](Entry *dev) {
        const wa_pair::StartClaim claim = wa_pair::claim_start(as_device(dev)->session_started, now, window_ms);
        if (claim.granted) {
            dev->live_until = std::max(dev->live_until, now + window_ms);  // kept while it counts
        }
        return claim;
    });
}

std::optional<wa_pair::EvolutionConnection> zone_evolution_connection(RequestCtx *ctx, std::int64_t now) noexcept {
    return on_device_entry(ctx, now, [](Entry *dev) { return as_device(dev)->evolution; });
}

bool zone_remember_evolution_connection(RequestCtx *ctx, const wa_pair::EvolutionConnection &connection,
                                        std::int64_t now) noexcept {
    // kept as long as the entry is (not pinned: best effort)
    return on_device_entry(ctx, now,
                           [&](Entry *dev) {
                               as_device(dev)->evolution = connection;
                               return true;
                           })
        .has_value();
}

}  // namespace ngx_wa_pair
