// Keys from identity providers, the configuration: the http level's settings
// (wa_pair_jwt_jwks_redirect, _trusted_certificate, _timeout), the list of sources every
// location's wa_pair_jwt_jwks_url and wa_pair_jwt_issuer add to (ngx_wa_pair_auth_conf.cpp),
// and the shared zone "wa_pair_jwks" that keeps each source's key set across workers and
// reloads.

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <new>

#include "nginx/ngx_wa_pair_caught.hpp"
#include "nginx/ngx_wa_pair_conf.hpp"
#include "nginx/ngx_wa_pair_jwks.hpp"
#include "jose/jwks.hpp"

namespace ngx_wa_pair {
namespace {

// Not the module's address: a wa_pair_zone called "wa_pair_jwks" must be refused, not shared.
int zone_tag;

constexpr size_t kSourcesPerSizeStep = 8;  // the zone's size changes (and its keys are fetched
                                           // again) only when a reload crosses a multiple of 8

void delete_main(void *data) noexcept {
    delete static_cast<JwksMain *>(data);
}

ngx_str_t *args(ngx_conf_t *cf) {
    return static_cast<ngx_str_t *>(cf->args->elts);
}

void take_slot(JwksMain *m, JwksSlot &slot, const JwksSource &s) {
    if (slot.doc != nullptr) {
        ngx_slab_free_locked(m->shpool, slot.doc);
    }
    const ngx_atomic_uint_t generation = slot.generation;
    ngx_memzero(&slot, sizeof(JwksSlot));
    slot.generation = generation + 1;  // a worker of the old configuration sees the change
    ngx_memcpy(slot.url, s.url.data(), s.url.size());
    slot.url_len = s.url.size();
    slot.issuer = s.issuer ? 1 : 0;
}

// Each source finds its slot of the last configuration (its keys and schedule go on), else
// takes a free one, else one no source of this configuration uses.
ngx_int_t assign_slots(JwksMain *m, ngx_log_t *log) {
    std::vector<bool> used(kJwksMaxSources, false);
    std::vector<bool> placed(m->sources.size(), false);
    for (size_t i = 0; i < m->sources.size(); i++) {
        JwksSource &s = m->sources[i];
        for (size_t k = 0; k < kJwksMaxSources; k++) {
            JwksSlot &slot = m->sh->slots[k];
            if (!used[k] && jwks_slot_is(slot, s)) {
                used[k] = true;
                placed[i] = true;
                s.slot = k;
                if (slot.doc != nullptr) {  // refresh= may have become shorter
                    slot.next_fetch = std::min(slot.next_fetch, slot.fetched + s.refresh);
                }
                break;
            }
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < m->sources.size(); i++) {
            if (placed[i]) {
                continue;
            }
            for (size_t k = 0; k < kJwksMaxSources; k++) {
                JwksSlot &slot = m->sh->slots[k];
                if (!used[k] && (pass == 1 || slot.url_len == 0)) {
                    take_slot(m, slot, m->sources[i]);
                    used[k] = true;
                    placed[i] = true;
                    m->sources[i].slot = k;
                    break;
                }
            }
        }
    }
    if (std::find(placed.begin(), placed.end(), false) != placed.end()) {
        ngx_log_error(NGX_LOG_EMERG, log, 0, "wa_pair: no free slot in the \"wa_pair_jwks\" zone");
        return NGX_ERROR;
    }
    return NGX_OK;
}

ngx_int_t init_zone(ngx_shm_zone_t *zone, void *data) noexcept {
    auto *m = static_cast<JwksMain *>(zone->data);
    auto *old = static_cast<JwksMain *>(data);
    try {
        if (old != nullptr) {  // a reload, the same size: the keys go on
            m->shpool = old->shpool;
            m->sh = old->sh;
        } else {
            m->shpool = reinterpret_cast<ngx_slab_pool_t *>(zone->shm.addr);
            if (zone->shm.exists) {
                m->sh = static_cast<JwksShared *>(m->shpool->data);
            } else {
                m->sh = static_cast<JwksShared *>(ngx_slab_calloc(m->shpool, sizeof(JwksShared)));
                if (m->sh == nullptr) {
                    return NGX_ERROR;
                }
                m->shpool->data = m->sh;
                static u_char log_ctx[] = " in the wa_pair_jwks zone";
                m->shpool->log_ctx = log_ctx;
            }
        }
        ngx_shmtx_lock(&m->shpool->mutex);
        ngx_int_t rc = assign_slots(m, zone->shm.log);
        ngx_shmtx_unlock(&m->shpool->mutex);
        return rc;
    } catch (...) {
        log_caught(zone->shm.log, "the key sources' zone");
        return NGX_ERROR;
    }
}

// Every certificate of a PEM file, for the error at nginx -t rather than at the first fetch.
bool pem_has_certificates(const char *path, std::string &error) {
    BIO *bio = BIO_new_file(path, "r");
    if (bio == nullptr) {
        error = "cannot be read";
        return false;
    }
    int count = 0;
    for (;;) {
        X509 *x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
        if (x == nullptr) {
            break;
        }
        X509_free(x);
        count++;
    }
    BIO_free(bio);
    ERR_clear_error();
    if (count == 0) {
        error = "has no PEM certificate";
        return false;
    }
    return true;
}

}  // namespace

JwksMain *jwks_main(ngx_conf_t *cf) {
    auto *mcf = static_cast<wa_pair_main_conf_t *>(ngx_http_conf_get_module_main_conf(cf, ngx_http_wa_pair_module));
    if (mcf->jwks == nullptr) {
        ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == nullptr) {
            return nullptr;
        }
        mcf->jwks = new (std::nothrow) JwksMain();
        if (mcf->jwks == nullptr) {
            return nullptr;
        }
        cln->handler = delete_main;
        cln->data = mcf->jwks;
    }
    return mcf->jwks;
}

JwksMain *jwks_main(ngx_cycle_t *cycle) {
    auto *mcf = static_cast<wa_pair_main_conf_t *>(ngx_http_cycle_get_module_main_conf(cycle, ngx_http_wa_pair_module));
    if (mcf == nullptr || mcf->jwks == nullptr || mcf->jwks->sources.empty()) {
        return nullptr;
    }
    return mcf->jwks;
}

ngx_int_t jwks_add_source(ngx_conf_t *cf, ngx_str_t url, bool issuer, time_t refresh) {
    JwksMain *m = jwks_main(cf);
    if (m == nullptr) {
        return -1;
    }
    const std::string_view text(reinterpret_cast<const char *>(url.data), url.len);
    for (size_t i = 0; i < m->sources.size(); i++) {
        JwksSource &s = m->sources[i];
        if (s.issuer == issuer && s.url == text) {
            s.refresh = std::min(s.refresh, refresh);
            return static_cast<ngx_int_t>(i);
        }
    }
    if (m->sources.size() == kJwksMaxSources) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "more than %uz key sources (\"wa_pair_jwt_jwks_url\" "
                           "and \"wa_pair_jwt_issuer\" URLs) in one configuration",
                           kJwksMaxSources);
        return -1;
    }
    JwksSource s;
    s.url.assign(text);
    s.issuer = issuer;
    s.refresh = refresh;
    m->sources.push_back(std::move(s));
    return static_cast<ngx_int_t>(m->sources.size() - 1);
}

// wa_pair_jwt_jwks_redirect on|off; (http)
char *jwks_redirect_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *) noexcept {
    JwksMain *m = jwks_main(cf);
    if (m == nullptr) {
        return WA_PAIR_CONF_ERROR;
    }
    if (m->redirect != NGX_CONF_UNSET) {
        return const_cast<char *>("is duplicate");
    }
    ngx_str_t *value = args(cf);
    if (ngx_strcasecmp(value[1].data, (u_char *)"on") == 0) {
        m->redirect = 1;
    } else if (ngx_strcasecmp(value[1].data, (u_char *)"off") == 0) {
        m->redirect = 0;
    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"%V\": on or off", &value[1], &cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
    return NGX_CONF_OK;
}

// wa_pair_jwt_jwks_trusted_certificate FILE; (http) a private CA, instead of the system's
char *jwks_ca_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *) noexcept {
    try {
        JwksMain *m = jwks_main(cf);
        if (m == nullptr) {
            return WA_PAIR_CONF_ERROR;
        }
        if (!m->ca_file.empty()) {
            return const_cast<char *>("is duplicate");
        }
        ngx_str_t path = args(cf)[1];
        if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
            return WA_PAIR_CONF_ERROR;
        }
        std::string file(reinterpret_cast<const char *>(path.data), path.len);
        std::string error;
        if (!pem_has_certificates(file.c_str(), error)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" file \"%V\" %s", &cmd->name, &path, error.c_str());
            return WA_PAIR_CONF_ERROR;
        }
        m->ca_file = std::move(file);
        return NGX_CONF_OK;
    } catch (...) {
        conf_log_caught(cf, cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
}

// wa_pair_jwt_jwks_timeout TIME; (http) a whole fetch: connection, TLS and answer
char *jwks_timeout_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *) noexcept {
    JwksMain *m = jwks_main(cf);
    if (m == nullptr) {
        return WA_PAIR_CONF_ERROR;
    }
    if (m->timeout != NGX_CONF_UNSET_MSEC) {
        return const_cast<char *>("is duplicate");
    }
    ngx_str_t *value = args(cf);
    ngx_msec_t ms = ngx_parse_time(&value[1], 0);
    if (ms == static_cast<ngx_msec_t>(NGX_ERROR) || ms == 0 || ms > 120000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"%V\": a time from 1ms to 2m", &value[1],
                           &cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
    m->timeout = ms;
    return NGX_CONF_OK;
}

ngx_int_t jwks_postconfiguration(ngx_conf_t *cf) noexcept {
    auto *mcf = static_cast<wa_pair_main_conf_t *>(ngx_http_conf_get_module_main_conf(cf, ngx_http_wa_pair_module));
    JwksMain *m = mcf->jwks;
    if (m == nullptr) {
        return NGX_OK;
    }
    ngx_conf_init_value(m->redirect, 0);
    ngx_conf_init_msec_value(m->timeout, 10000);
    if (m->sources.empty()) {
        return NGX_OK;
    }
    const size_t steps = (m->sources.size() + kSourcesPerSizeStep - 1) / kSourcesPerSizeStep;
    // A source's key set twice (the new one is stored before the old is freed), and the slab's
    // own rounding.
    const size_t per_source = 2 * wa_pair::kMaxFetchedBytes + 64 * 1024;
    const size_t size = 16 * ngx_pagesize + sizeof(JwksShared) + steps * kSourcesPerSizeStep * per_source;
    ngx_str_t name = ngx_string("wa_pair_jwks");
    m->zone = ngx_shared_memory_add(cf, &name, size, &zone_tag);
    if (m->zone == nullptr) {
        return NGX_ERROR;
    }
    m->zone->init = init_zone;
    m->zone->data = m;
    return NGX_OK;
}

std::string jwks_log_url(const JwksSource &s) {
    return s.url.substr(0, s.url.find('?'));
}

}  // namespace ngx_wa_pair
