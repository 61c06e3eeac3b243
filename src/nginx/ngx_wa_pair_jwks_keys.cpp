// Keys from identity providers, the request's side: a location's fetched keys, parsed by this
// worker once per change of the zone (a request reads one counter per source otherwise), a
// refresh asked for by an unknown kid, and the 503 while no source has answered yet.

#include <algorithm>
#include <memory>
#include <new>
#include <vector>

#include "nginx/ngx_wa_pair_caught.hpp"
#include "nginx/ngx_wa_pair_conf.hpp"
#include "nginx/ngx_wa_pair_jwks.hpp"
#include "jose/jwks.hpp"
#include "auth/jwt_cache.hpp"

namespace ngx_wa_pair {
namespace {

constexpr time_t kLogEvery = 60;

struct SourceKeys {
    bool loaded = false;
    ngx_atomic_uint_t generation = 0;
    std::shared_ptr<const wa_pair::KeySet> keys;  // null: none yet
};

// This worker's parsed key sets, per source.
struct WorkerKeys {
    JwksMain *m = nullptr;
    std::vector<SourceKeys> sources;
    unsigned long long version = 1;  // bumped when any source's keys change
};

WorkerKeys *state;

WorkerKeys *worker_keys() {
    if (state == nullptr) {
        JwksMain *m = jwks_main(const_cast<ngx_cycle_t *>(ngx_cycle));
        if (m == nullptr || m->sh == nullptr) {
            return nullptr;
        }
        auto *w = new (std::nothrow) WorkerKeys();
        if (w == nullptr) {
            return nullptr;
        }
        w->m = m;
        w->sources.resize(m->sources.size());
        state = w;
    }
    return state;
}

struct Locked {
    ngx_slab_pool_t *pool;
    explicit Locked(ngx_slab_pool_t *p) : pool(p) { ngx_shmtx_lock(&pool->mutex); }
    ~Locked() { ngx_shmtx_unlock(&pool->mutex); }
};

// Reads source i's key set from the zone again.
void load(WorkerKeys *w, size_t i) {
    const JwksSource &s = w->m->sources[i];
    JwksSlot &slot = w->m->sh->slots[s.slot];
    std::string doc;
    ngx_atomic_uint_t generation;
    {
        Locked lock(w->m->shpool);
        generation = slot.generation;
        if (jwks_slot_is(slot, s) && slot.doc != nullptr) {
            doc.assign(reinterpret_cast<const char *>(slot.doc), slot.doc_len);
        }
    }
    SourceKeys &sk = w->sources[i];
    sk.loaded = true;
    sk.generation = generation;
    sk.keys.reset();
    if (!doc.empty()) {
        // The fetcher stored it only after the same parse accepted it.
        wa_pair::KeyFile parsed = wa_pair::parse_fetched_jwks(doc);
        if (parsed.error.empty()) {
            sk.keys = std::make_shared<const wa_pair::KeySet>(std::move(parsed.keys));
        }
    }
    w->version++;
}

void rebuild(WorkerKeys *w, JwksUse *use) {
    use->keys.reset();
    if (use->sources.size() == 1) {
        use->keys = w->sources[use->sources[0]].keys;
    } else {
        auto merged = std::make_shared<wa_pair::KeySet>();
        bool any = false;
        for (size_t i : use->sources) {
            if (const auto &keys = w->sources[i].keys) {
                merged->insert(merged->end(), keys->begin(), keys->end());
                any = true;
            }
        }
        if (any) {
            use->keys = std::move(merged);
        }
    }
    use->seen = w->version;
    if (use->cache) {
        use->cache->clear();  // a kept verification may rest on a key that is gone
    }
}

}  // namespace

JwksKeys jwks_keys(JwksUse *use) noexcept {
    try {
        WorkerKeys *w = worker_keys();
        if (w == nullptr) {
            return {};
        }
        for (size_t i : use->sources) {
            const SourceKeys &sk = w->sources[i];
            const ngx_atomic_uint_t now = w->m->sh->slots[w->m->sources[i].slot].generation;
            if (!sk.loaded || sk.generation != now) {
                load(w, i);
            }
        }
        if (use->seen != w->version) {
            rebuild(w, use);
        }
        return {use->keys.get()};
    } catch (...) {
        log_caught(ngx_cycle->log, "the fetched keys");
        return {use->keys.get()};  // out of memory: the keys this location had
    }
}

void jwks_unknown_kid(const JwksUse *use) noexcept {
    WorkerKeys *w = worker_keys();
    if (w == nullptr) {
        return;
    }
    const time_t now = ngx_time();
    bool asked = false;
    for (size_t i : use->sources) {
        const JwksSource &s = w->m->sources[i];
        JwksSlot &slot = w->m->sh->slots[s.slot];
        if (slot.kid_refresh_at > now) {
            continue;  // asked less than 30 s ago (read without the lock: a hint)
        }
        Locked lock(w->m->shpool);
        if (jwks_slot_is(slot, s) && slot.kid_refresh_at <= now) {
            slot.kid_refresh_at = now + kJwksKidRefreshEvery;
            slot.next_fetch = std::min(slot.next_fetch, now);
            asked = true;
        }
    }
    if (asked) {
        jwks_poll_soon();
    }
}

ngx_int_t jwks_unavailable(ngx_http_request_t *r, JwksUse *use) {
    WorkerKeys *w = worker_keys();
    const time_t now = ngx_time();
    time_t retry = 60;
    std::string why;
    std::string url;
    if (w != nullptr) {
        Locked lock(w->m->shpool);
        for (size_t i : use->sources) {
            const JwksSource &s = w->m->sources[i];
            const JwksSlot &slot = w->m->sh->slots[s.slot];
            if (!jwks_slot_is(slot, s)) {
                continue;
            }
            retry = std::min(retry, std::max(slot.next_fetch, slot.claimed_until) - now);
            if (url.empty() || (why.empty() && slot.error[0] != '\0')) {
                url = jwks_log_url(s);
                why.assign(reinterpret_cast<const char *>(slot.error));
            }
        }
    }
    retry = std::clamp<time_t>(retry, 1, 60);
    if (now - use->logged >= kLogEvery) {
        use->logged = now;
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wa_pair: no keys from \"%s\" yet (%s): JWTs are answered 503 until they "
                      "arrive (at most one such line a minute)",
                      url.c_str(), why.empty() ? "the first fetch has not finished" : why.c_str());
    }
    if (!add_header(r, "Retry-After", std::to_string(retry))) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    wa_pair::Failure f;
    f.code = NGX_HTTP_SERVICE_UNAVAILABLE;
    f.error.assign(wa_pair::kKeysNotAvailable);
    return reject(r, f);
}

void jwks_keys_exit() noexcept {
    delete state;
    state = nullptr;
}

}  // namespace ngx_wa_pair
