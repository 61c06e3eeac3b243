// TLS to the pairing backend (https:// in wa_pair_backend): the wa_pair_ssl_* directives, with
// the semantics of proxy_ssl_* of the same suffix, and the TLS context of a wa_pair location.
// One default differs from proxy_ssl_*: wa_pair_ssl_verify is on (an engine's answer is a
// credential; the system's CAs are trusted when no wa_pair_ssl_trusted_certificate is given).

#include "nginx/ngx_wa_pair_conf.hpp"

namespace ngx_wa_pair {

#if (NGX_HTTP_SSL)

ngx_conf_bitmask_t ssl_protocol_masks[] = {
    {ngx_string("TLSv1"), NGX_SSL_TLSv1},
    {ngx_string("TLSv1.1"), NGX_SSL_TLSv1_1},
    {ngx_string("TLSv1.2"), NGX_SSL_TLSv1_2},
    {ngx_string("TLSv1.3"), NGX_SSL_TLSv1_3},
    {ngx_null_string, 0},
};

namespace {

void cleanup_ssl(void *data) noexcept {
    ngx_ssl_cleanup_ctx(data);
}

// A value with variables may turn out https for some request, unless its scheme is written.
bool may_be_tls(const wa_pair_loc_conf_t *conf) {
    if (conf->backend_cv == nullptr) {
        return conf->backend_tls;
    }
    constexpr std::string_view kHttp = "http://";
    const std::string_view raw = view(conf->backend_raw);
    return raw.size() < kHttp.size() ||
           ngx_strncasecmp(const_cast<u_char *>(conf->backend_raw.data),
                           reinterpret_cast<u_char *>(const_cast<char *>(kHttp.data())), kHttp.size()) != 0;
}

// proxy_ssl_*'s context: protocols, client certificate, trust, session reuse.
char *create_context(ngx_conf_t *cf, wa_pair_loc_conf_t *conf) {
    ngx_http_upstream_conf_t &u = conf->upstream;
    u.ssl = static_cast<ngx_ssl_t *>(ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t)));
    if (u.ssl == nullptr) {
        return WA_PAIR_CONF_ERROR;
    }
    u.ssl->log = cf->log;
    if (ngx_ssl_create(u.ssl, conf->ssl_protocols, nullptr) != NGX_OK) {
        return WA_PAIR_CONF_ERROR;
    }
    ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == nullptr) {
        ngx_ssl_cleanup_ctx(u.ssl);
        return WA_PAIR_CONF_ERROR;
    }
    cln->handler = cleanup_ssl;
    cln->data = u.ssl;

    if (u.ssl_certificate != nullptr) {
        if (u.ssl_certificate_key == nullptr) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "no \"wa_pair_ssl_certificate_key\" is defined for certificate \"%V\"",
                               &u.ssl_certificate->value);
            return WA_PAIR_CONF_ERROR;
        }
        if (u.ssl_certificate->lengths != nullptr || u.ssl_certificate_key->lengths != nullptr) {
            u.ssl_passwords = ngx_ssl_preserve_passwords(cf, nullptr);  // loaded per connection
            if (u.ssl_passwords == nullptr) {
                return WA_PAIR_CONF_ERROR;
            }
        } else if (ngx_ssl_certificate(cf, u.ssl, &u.ssl_certificate->value, &u.ssl_certificate_key->value, nullptr) !=
                   NGX_OK) {
            return WA_PAIR_CONF_ERROR;
        }
    }

    if (u.ssl_verify) {
        if (ngx_ssl_trusted_certificate(cf, u.ssl, &conf->ssl_trusted_certificate,
                                        static_cast<ngx_int_t>(conf->ssl_verify_depth)) != NGX_OK) {
            return WA_PAIR_CONF_ERROR;
        }
        if (conf->ssl_trusted_certificate.len == 0 && SSL_CTX_set_default_verify_paths(u.ssl->ctx) != 1) {
            ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                          const_cast<char *>("wa_pair_ssl_verify: the system's CAs cannot be loaded"));
            return WA_PAIR_CONF_ERROR;
        }
    }

    if (ngx_ssl_client_session_cache(cf, u.ssl, u.ssl_session_reuse) != NGX_OK) {
        return WA_PAIR_CONF_ERROR;
    }
    return NGX_CONF_OK;
}

}  // namespace

void create_ssl_conf(wa_pair_loc_conf_t *conf) noexcept {
    // ngx_pcalloc: ssl_protocols 0 (unset), ssl_trusted_certificate unset
    ngx_http_upstream_conf_t &u = conf->upstream;
    u.ssl_session_reuse = NGX_CONF_UNSET;
    u.ssl_server_name = NGX_CONF_UNSET;
    u.ssl_verify = NGX_CONF_UNSET;
    u.ssl_name = static_cast<ngx_http_complex_value_t *>(NGX_CONF_UNSET_PTR);
    u.ssl_certificate = static_cast<ngx_http_complex_value_t *>(NGX_CONF_UNSET_PTR);
    u.ssl_certificate_key = static_cast<ngx_http_complex_value_t *>(NGX_CONF_UNSET_PTR);
    conf->ssl_verify_depth = NGX_CONF_UNSET_UINT;
}

char *merge_ssl_conf(ngx_conf_t *cf, wa_pair_loc_conf_t *prev, wa_pair_loc_conf_t *conf) noexcept {
    ngx_http_upstream_conf_t &u = conf->upstream;
    const ngx_http_upstream_conf_t &p = prev->upstream;
    ngx_conf_merge_value(u.ssl_session_reuse, p.ssl_session_reuse, 1);
    ngx_conf_merge_bitmask_value(conf->ssl_protocols, prev->ssl_protocols,
                                 NGX_CONF_BITMASK_SET | NGX_SSL_TLSv1_2 | NGX_SSL_TLSv1_3);
    ngx_conf_merge_ptr_value(u.ssl_name, p.ssl_name, nullptr);
    ngx_conf_merge_value(u.ssl_server_name, p.ssl_server_name, 0);
    ngx_conf_merge_value(u.ssl_verify, p.ssl_verify, 1);
    ngx_conf_merge_uint_value(conf->ssl_verify_depth, prev->ssl_verify_depth, 1);
    ngx_conf_merge_str_value(conf->ssl_trusted_certificate, prev->ssl_trusted_certificate, "");
    ngx_conf_merge_ptr_value(u.ssl_certificate, p.ssl_certificate, nullptr);
    ngx_conf_merge_ptr_value(u.ssl_certificate_key, p.ssl_certificate_key, nullptr);

    if (!conf->enable || conf->backend_raw.data == nullptr || !may_be_tls(conf)) {
        return NGX_CONF_OK;  // a context only where a call may need one
    }
    if (create_context(cf, conf) != NGX_CONF_OK) {
        return WA_PAIR_CONF_ERROR;
    }
    if (conf->backend_cv == nullptr && u.ssl_session_reuse) {
        auto *mcf = static_cast<wa_pair_main_conf_t *>(ngx_http_conf_get_module_main_conf(cf, ngx_http_wa_pair_module));
        if (mcf->tls_locations == nullptr &&
            (mcf->tls_locations = ngx_array_create(cf->pool, 4, sizeof(wa_pair_loc_conf_t *))) == nullptr) {
            return WA_PAIR_CONF_ERROR;
        }
        auto **slot = static_cast<wa_pair_loc_conf_t **>(ngx_array_push(mcf->tls_locations));
        if (slot == nullptr) {
            return WA_PAIR_CONF_ERROR;
        }
        *slot = conf;
    }
    return NGX_CONF_OK;
}

namespace {

std::string_view cv_text(const ngx_http_complex_value_t *cv) {
    return cv != nullptr ? view(cv->value) : std::string_view();
}

// What decides whether a TLS session may be made and resumed: trust, name, client certificate.
bool same_tls_settings(const wa_pair_loc_conf_t *a, const wa_pair_loc_conf_t *b) {
    const ngx_http_upstream_conf_t &x = a->upstream;
    const ngx_http_upstream_conf_t &y = b->upstream;
    return x.ssl_verify == y.ssl_verify && a->ssl_verify_depth == b->ssl_verify_depth &&
           view(a->ssl_trusted_certificate) == view(b->ssl_trusted_certificate) &&
           a->ssl_protocols == b->ssl_protocols && cv_text(x.ssl_name) == cv_text(y.ssl_name) &&
           cv_text(x.ssl_certificate) == cv_text(y.ssl_certificate) &&
           cv_text(x.ssl_certificate_key) == cv_text(y.ssl_certificate_key);
}

}  // namespace

void check_shared_tls_sessions(ngx_conf_t *cf, wa_pair_main_conf_t *mcf) noexcept {
    if (mcf->tls_locations == nullptr) {
        return;
    }
    auto **locations = static_cast<wa_pair_loc_conf_t **>(mcf->tls_locations->elts);
    const ngx_uint_t n = mcf->tls_locations->nelts;
    for (ngx_uint_t i = 0; i < n; i++) {
        for (ngx_uint_t j = i + 1; j < n; j++) {
            const wa_pair_loc_conf_t *a = locations[i];
            const wa_pair_loc_conf_t *b = locations[j];
            if (a->upstream.upstream != b->upstream.upstream || same_tls_settings(a, b)) {
                continue;
            }
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "wa_pair: locations \"%V\" and \"%V\" call the https backend \"%V\" "
                               "with different wa_pair_ssl_* settings, and nginx shares its TLS "
                               "sessions between them: give them the same settings, or "
                               "\"wa_pair_ssl_session_reuse off\" in one",
                               &a->core->name, &b->core->name, &a->upstream.upstream->host);
        }
    }
}

#else

void create_ssl_conf(wa_pair_loc_conf_t *) noexcept {}

void check_shared_tls_sessions(ngx_conf_t *, wa_pair_main_conf_t *) noexcept {}

char *merge_ssl_conf(ngx_conf_t *, wa_pair_loc_conf_t *, wa_pair_loc_conf_t *) noexcept {
    return NGX_CONF_OK;
}

#endif

}  // namespace ngx_wa_pair
