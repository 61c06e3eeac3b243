// Keys from identity providers, the fetcher. Every worker looks at the zone once a second (a
// cancelable timer); the first to find a source due claims it under the zone's lock and fetches
// it with libcurl (ngx_wa_pair_curl.hpp), so a host makes one fetch per source, whatever its
// number of workers. An issuer is fetched in two steps: its OpenID configuration, then the
// jwks_uri it names. A good JWK Set replaces the slot's; a failure keeps the last good one and
// is logged with the URL and the reason, never a key.

#include <algorithm>
#include <memory>
#include <new>
#include <vector>

#include "nginx/ngx_wa_pair_caught.hpp"
#include "nginx/ngx_wa_pair_conf.hpp"
#include "nginx/ngx_wa_pair_curl.hpp"
#include "nginx/ngx_wa_pair_jwks.hpp"
#include "jose/jwks.hpp"

namespace ngx_wa_pair {
namespace {

constexpr ngx_msec_t kPollMs = 1000;
constexpr int kMaxRedirects = 5;

struct Job {
    size_t source = 0;
    Fetch fetch;
    bool discovery = false;  // fetching the issuer's OpenID configuration
    int redirects = 0;
    std::string host;  // of the URL being fetched
};

struct Fetcher {
    JwksMain *m = nullptr;
    ngx_event_t timer;
    std::vector<std::unique_ptr<Job>> jobs;  // per source, null when idle
};

Fetcher *fetcher;  // this worker's

ngx_log_t *log() {
    return ngx_cycle->log;
}

// The slot of source i, under the zone's lock; null when a reload gave it to another URL.
JwksSlot *slot_of(size_t i) {
    JwksSlot &slot = fetcher->m->sh->slots[fetcher->m->sources[i].slot];
    return jwks_slot_is(slot, fetcher->m->sources[i]) ? &slot : nullptr;
}

struct Locked {
    ngx_slab_pool_t *pool;
    explicit Locked(ngx_slab_pool_t *p) : pool(p) { ngx_shmtx_lock(&pool->mutex); }
    ~Locked() { ngx_shmtx_unlock(&pool->mutex); }
};

void end_job(Job *job) {
    fetcher->jobs[job->source].reset();  // job is freed
}

void fail(Job *job, const std::string &reason) {
    const JwksSource &s = fetcher->m->sources[job->source];
    const std::string url = jwks_log_url(s);
    const time_t now = ngx_time();
    bool has_keys = false;
    time_t fetched = 0;
    time_t retry = kJwksRetryFirst;
    {
        Locked lock(fetcher->m->shpool);
        if (JwksSlot *slot = slot_of(job->source)) {
            has_keys = slot->doc != nullptr;
            fetched = slot->fetched;
            retry = has_keys ? std::min(kJwksRetryAfterKeys, s.refresh) : kJwksRetryFirst;
            slot->failures++;
            slot->failures_total++;
            slot->claimed_until = 0;
            slot->next_fetch = now + retry;
            const size_t n = std::min(reason.size(), sizeof(slot->error) - 1);
            ngx_memcpy(slot->error, reason.data(), n);
            slot->error[n] = '\0';
        }
    }
    if (has_keys) {
        ngx_log_error(NGX_LOG_WARN, log(), 0,
                      "wa_pair: fetching keys from \"%s\" failed: %s; keeping the keys fetched %T s "
                      "ago, next try in %T s",
                      url.c_str(), reason.c_str(), now - fetched, retry);
    } else {
        ngx_log_error(NGX_LOG_WARN, log(), 0,
                      "wa_pair: fetching keys from \"%s\" failed: %s; no keys from it yet, next try "
                      "in %T s",
                      url.c_str(), reason.c_str(), retry);
    }
    end_job(job);
}

void store(Job *job, const wa_pair::KeyFile &parsed) {
    const JwksSource &s = fetcher->m->sources[job->source];
    const std::string &body = job->fetch.body;
    const time_t now = ngx_time();
    const long next =
        wa_pair::refresh_after(static_cast<long>(s.refresh), wa_pair::cache_max_age(job->fetch.cache_control));
    bool changed = false;
    bool no_room = false;
    {
        Locked lock(fetcher->m->shpool);
        JwksSlot *slot = slot_of(job->source);
        if (slot == nullptr) {
            end_job(job);
            return;
        }
        changed = slot->doc == nullptr || slot->doc_len != body.size() ||
                  ngx_memcmp(slot->doc, body.data(), body.size()) != 0;
        u_char *doc = nullptr;
        if (changed &&
            (doc = static_cast<u_char *>(ngx_slab_alloc_locked(fetcher->m->shpool, body.size()))) == nullptr) {
            no_room = true;
        } else {
            if (changed) {
                ngx_memcpy(doc, body.data(), body.size());
                if (slot->doc != nullptr) {
                    ngx_slab_free_locked(fetcher->m->shpool, slot->doc);
                }
                slot->doc = doc;
                slot->doc_len = body.size();
                slot->generation = slot->generation + 1;
            }
            slot->fetched = now;
            slot->next_fetch = now + next;
            slot->claimed_until = 0;
            slot->failures = 0;
            slot->error[0] = '\0';
        }
    }
    if (no_room) {
        return fail(job, "the \"wa_pair_jwks\" zone has no room for " + std::to_string(body.size()) + " bytes");
    }
    const std::string url = jwks_log_url(s);
    if (changed) {
        for (const std::string &warning : parsed.warnings) {
            ngx_log_error(NGX_LOG_WARN, log(), 0, "wa_pair: keys from \"%s\": %s", url.c_str(), warning.c_str());
        }
        ngx_log_error(NGX_LOG_NOTICE, log(), 0, "wa_pair: %uz keys from \"%s\", next refresh in %l s",
                      parsed.keys.size(), url.c_str(), next);
    } else {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log(), 0, "wa_pair: keys from \"%s\" unchanged, next refresh in %l s",
                       url.c_str(), next);
    }
    end_job(job);
}

void on_done(Fetch *f);

void start(Job *job, const std::string &url) {
    wa_pair::FetchUrl checked = wa_pair::check_fetch_url(url);
    if (!checked.error.empty()) {
        return fail(job, "\"" + url.substr(0, url.find('?')) + "\" may not be fetched: " + checked.error);
    }
    job->host = checked.host;
    Fetch &f = job->fetch;
    f.url = url;
    f.ca_file = fetcher->m->ca_file;
    f.timeout_ms = static_cast<long>(fetcher->m->timeout);
    f.max_body = wa_pair::kMaxFetchedBytes;
    f.done = on_done;
    f.data = job;
    if (!fetch_start(&f, log())) {
        fail(job, "libcurl could not start the fetch");
    }
}

void redirect(Job *job) {
    const std::string target = job->fetch.location;
    if (target.empty()) {
        return fail(job, "answered HTTP " + std::to_string(job->fetch.status) + " without a Location");
    }
    if (++job->redirects > kMaxRedirects) {
        return fail(job, "more than " + std::to_string(kMaxRedirects) + " redirects");
    }
    wa_pair::FetchUrl checked = wa_pair::check_fetch_url(target);
    if (!checked.error.empty()) {
        return fail(job, "redirected to a URL that may not be fetched: " + checked.error);
    }
    if (checked.host != job->host && !fetcher->m->redirect) {
        return fail(
            job, "redirected to another host, \"" + checked.host + "\" (\"wa_pair_jwt_jwks_redirect on\" allows it)");
    }
    start(job, target);
}

void on_done(Fetch *f) {
    auto *job = static_cast<Job *>(f->data);
    try {
        const std::string failure = fetch_failure(*f);
        if (!failure.empty()) {
            return fail(job, failure);
        }
        if (f->status >= 300 && f->status < 400) {
            return redirect(job);
        }
        if (f->status != 200) {
            return fail(job, "answered HTTP " + std::to_string(f->status));
        }
        const JwksSource &s = fetcher->m->sources[job->source];
        if (job->discovery) {
            wa_pair::Discovery d = wa_pair::parse_discovery(f->body, s.url);
            if (!d.error.empty()) {
                return fail(job, "its OpenID configuration: " + d.error);
            }
            job->discovery = false;
            job->redirects = 0;
            return start(job, d.jwks_uri);
        }
        wa_pair::KeyFile parsed = wa_pair::parse_fetched_jwks(f->body);
        if (!parsed.error.empty()) {
            return fail(job, parsed.error);
        }
        store(job, parsed);
    } catch (...) {
        fail(job, caught_what());
    }
}

void start_job(size_t i) {
    const JwksSource &s = fetcher->m->sources[i];
    fetcher->jobs[i] = std::make_unique<Job>();
    Job *job = fetcher->jobs[i].get();
    job->source = i;
    job->discovery = s.issuer;
    start(job, s.issuer ? wa_pair::discovery_url(s.url) : s.url);
}

void poll(ngx_event_t *) noexcept {
    if (fetcher == nullptr || ngx_exiting || ngx_quit || ngx_terminate) {
        return;  // a worker on its way out starts nothing
    }
    try {
        const time_t now = ngx_time();
        const time_t claim = static_cast<time_t>(fetcher->m->timeout / 1000) + 5;
        for (size_t i = 0; i < fetcher->m->sources.size(); i++) {
            if (fetcher->jobs[i]) {
                continue;
            }
            bool due = false;
            {
                Locked lock(fetcher->m->shpool);
                JwksSlot *slot = slot_of(i);
                if (slot != nullptr && slot->next_fetch <= now && slot->claimed_until <= now) {
                    slot->claimed_until = now + claim;  // no other worker fetches it meanwhile
                    slot->fetches++;
                    due = true;
                }
            }
            if (due) {
                start_job(i);
            }
        }
    } catch (...) {
        log_caught(log(), "key fetches");
    }
    if (!fetcher->timer.timer_set) {
        ngx_add_timer(&fetcher->timer, kPollMs);
    }
}

}  // namespace

ngx_int_t jwks_worker_init(ngx_cycle_t *cycle) noexcept {
    if (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE) {
        return NGX_OK;  // the cache manager and loader fetch nothing
    }
    JwksMain *m = jwks_main(cycle);
    if (m == nullptr || m->sh == nullptr) {
        return NGX_OK;
    }
    auto *f = new (std::nothrow) Fetcher();
    if (f == nullptr) {
        return NGX_ERROR;
    }
    try {
        f->jobs.resize(m->sources.size());
    } catch (...) {
        log_caught(cycle->log, "starting the key fetches");
        delete f;
        return NGX_ERROR;
    }
    f->m = m;
    ngx_memzero(&f->timer, sizeof(ngx_event_t));
    f->timer.handler = poll;
    f->timer.data = f;
    f->timer.log = cycle->log;
    f->timer.cancelable = 1;  // a worker shutting down does not wait for the next look
    fetcher = f;
    ngx_add_timer(&f->timer, 0);
    return NGX_OK;
}

void jwks_poll_soon() noexcept {
    if (fetcher == nullptr || ngx_exiting) {
        return;
    }
    if (fetcher->timer.timer_set) {
        ngx_del_timer(&fetcher->timer);
    }
    ngx_add_timer(&fetcher->timer, 0);
}

void jwks_worker_exit() noexcept {
    if (fetcher != nullptr) {
        if (fetcher->timer.timer_set) {
            ngx_del_timer(&fetcher->timer);
        }
        delete fetcher;  // its jobs' fetches stop
        fetcher = nullptr;
    }
    jwks_keys_exit();
    curl_worker_exit();
}

}  // namespace ngx_wa_pair
