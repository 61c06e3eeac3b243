// The backend's directives (wa_pair_backend, wa_pair_backend_protocol, wa_pair_backend_header,
// wa_pair_backend_buffer_size, wa_pair_next_upstream, the timeouts) and their inheritance.
// wa_pair_backend takes proxy_pass's forms: a value without variables is handed to nginx's
// upstream module at nginx -t (a host name is resolved then, an upstream{} block's name names
// it); a value with variables is evaluated per request (ngx_wa_pair_upstream.cpp).

#include <string>

#include "nginx/ngx_wa_pair_caught.hpp"
#include "nginx/ngx_wa_pair_conf.hpp"
#include "backend/backend.hpp"

namespace ngx_wa_pair {

namespace {

ngx_str_t *args(ngx_conf_t *cf) {
    return static_cast<ngx_str_t *>(cf->args->elts);
}

bool copy_str(ngx_conf_t *cf, std::string_view from, ngx_str_t &to) {
    to.len = from.size();
    to.data = static_cast<u_char *>(ngx_pnalloc(cf->pool, from.size() + 1));
    if (to.data == nullptr) {
        return false;
    }
    if (!from.empty()) {  // an empty view's data() may be null, which memcpy may not take
        ngx_memcpy(to.data, from.data(), from.size());
    }
    to.data[from.size()] = '\0';
    return true;
}

bool compile(ngx_conf_t *cf, ngx_str_t *value, ngx_http_complex_value_t *cv) {
    ngx_http_compile_complex_value_t ccv;
    ngx_memzero(&ccv, sizeof(ccv));
    ccv.cf = cf;
    ccv.value = value;
    ccv.complex_value = cv;
    return ngx_http_compile_complex_value(&ccv) == NGX_OK;
}

wa_pair::Protocol protocol_of(const wa_pair_loc_conf_t *lcf) {
    return static_cast<wa_pair::Protocol>(lcf->backend_protocol);
}

// A value without variables: its server (or group) goes to nginx's upstream module now, as
// proxy_pass's does, so that nginx -t names this line for a bad address or an unknown host.
char *add_static_backend(ngx_conf_t *cf, ngx_command_t *cmd, wa_pair_loc_conf_t *lcf, ngx_str_t *value) {
    wa_pair::BackendUrl url = wa_pair::parse_backend_url(view(*value), "");
    if (!url.error.empty()) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"%V\": %s", value, &cmd->name,
                           url.error.c_str());
        return WA_PAIR_CONF_ERROR;
    }
#if !(NGX_HTTP_SSL)
    if (url.tls) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": https needs nginx built with SSL", &cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
#endif
    if (!copy_str(cf, url.address, lcf->backend_address) || !copy_str(cf, url.host, lcf->backend_host) ||
        !copy_str(cf, url.has_uri ? std::string_view(url.uri) : std::string_view(), lcf->backend_own_uri)) {
        return WA_PAIR_CONF_ERROR;
    }
    ngx_url_t u;
    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = lcf->backend_address;
    u.default_port = url.tls ? 443 : 80;
    u.no_resolve = 1;  // resolved with the upstream{} blocks, once they are all known
    lcf->upstream.upstream = ngx_http_upstream_add(cf, &u, 0);
    if (lcf->upstream.upstream == nullptr) {
        return WA_PAIR_CONF_ERROR;  // nginx said why
    }
    lcf->backend_tls = url.tls;
    return NGX_CONF_OK;
}

// The target and the names of a value without variables, for this level's protocol.
bool prepare_static_backend(ngx_conf_t *cf, wa_pair_loc_conf_t *conf) {
    wa_pair::BackendUrl url;
    url.tls = conf->backend_tls;
    url.address = view(conf->backend_address);
    url.host = view(conf->backend_host);
    url.has_uri = conf->backend_own_uri.len > 0;
    url.uri = url.has_uri ? view(conf->backend_own_uri) : wa_pair::default_path(protocol_of(conf));
    const std::string_view path = std::string_view(url.uri).substr(0, url.uri.find('?'));
    return copy_str(cf, url.uri, conf->backend_uri) && copy_str(cf, path, conf->backend_path) &&
           copy_str(cf, wa_pair::backend_log_name(url), conf->backend_log_name);
}

struct NextUpstream {
    std::string_view name;
    ngx_uint_t mask;
};

// proxy_next_upstream's values. Each moves to the next server only when the request was not
// sent; an answer of any kind means it was, so the values about answers never apply.
constexpr NextUpstream kNextUpstream[] = {
    {"error", NGX_HTTP_UPSTREAM_FT_ERROR},
    {"timeout", NGX_HTTP_UPSTREAM_FT_TIMEOUT},
    {"invalid_header", NGX_HTTP_UPSTREAM_FT_INVALID_HEADER},
    {"http_500", NGX_HTTP_UPSTREAM_FT_HTTP_500},
    {"http_502", NGX_HTTP_UPSTREAM_FT_HTTP_502},
    {"http_503", NGX_HTTP_UPSTREAM_FT_HTTP_503},
    {"http_504", NGX_HTTP_UPSTREAM_FT_HTTP_504},
    {"http_403", NGX_HTTP_UPSTREAM_FT_HTTP_403},
    {"http_404", NGX_HTTP_UPSTREAM_FT_HTTP_404},
    {"http_429", NGX_HTTP_UPSTREAM_FT_HTTP_429},
    {"off", NGX_HTTP_UPSTREAM_FT_OFF},
};

}  // namespace

// wa_pair_backend URL;  a value with variables is a complex value, evaluated per request.
char *backend_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    auto *lcf = static_cast<wa_pair_loc_conf_t *>(conf);
    if (lcf->backend_raw.data != nullptr) {
        return const_cast<char *>("is duplicate");
    }
    ngx_str_t *value = args(cf);
    try {
        lcf->backend_raw = value[1];
        if (ngx_http_script_variables_count(&value[1]) == 0) {
            return add_static_backend(cf, cmd, lcf, &value[1]);
        }
        // Checked here with every variable replaced by a placeholder, so that a bad scheme,
        // host or socket path is refused before any request.
        const std::string error = wa_pair::check_backend_url_template(view(value[1]));
        if (!error.empty()) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"%V\": %s", &value[1], &cmd->name,
                               error.c_str());
            return WA_PAIR_CONF_ERROR;
        }
        lcf->backend_cv =
            static_cast<ngx_http_complex_value_t *>(ngx_pcalloc(cf->pool, sizeof(ngx_http_complex_value_t)));
        if (lcf->backend_cv == nullptr || !compile(cf, &value[1], lcf->backend_cv)) {
            return WA_PAIR_CONF_ERROR;
        }
    } catch (...) {
        conf_log_caught(cf, cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
    return NGX_CONF_OK;
}

// wa_pair_backend_header Name value;  repeatable; the value is a complex value.
char *backend_header_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    auto *lcf = static_cast<wa_pair_loc_conf_t *>(conf);
    ngx_str_t *value = args(cf);
    try {
        std::string error = wa_pair::check_header_name(view(value[1]));
        if (!error.empty()) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid header name \"%V\" in \"%V\": %s", &value[1], &cmd->name,
                               error.c_str());
            return WA_PAIR_CONF_ERROR;
        }
    } catch (...) {
        conf_log_caught(cf, cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
    // The value as written (variables included) must not split the request; the value is
    // not repeated in the message.
    if (!wa_pair::valid_header_value(view(value[2]))) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "the value of header \"%V\" in \"%V\" has control characters",
                           &value[1], &cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
    if (lcf->backend_headers == NGX_CONF_UNSET_PTR || lcf->backend_headers == nullptr) {
        lcf->backend_headers = ngx_array_create(cf->pool, 4, sizeof(backend_header_t));
        if (lcf->backend_headers == nullptr) {
            return WA_PAIR_CONF_ERROR;
        }
    }
    auto *h = static_cast<backend_header_t *>(ngx_array_push(lcf->backend_headers));
    if (h == nullptr) {
        return WA_PAIR_CONF_ERROR;
    }
    ngx_memzero(h, sizeof(backend_header_t));
    h->name = value[1];
    if (!compile(cf, &value[2], &h->value)) {
        return WA_PAIR_CONF_ERROR;
    }
    return NGX_CONF_OK;
}

// wa_pair_backend_protocol native | origin | gowa | waha | wuzapi | evolution;
char *protocol_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    auto *lcf = static_cast<wa_pair_loc_conf_t *>(conf);
    (void)cmd;
    if (lcf->backend_protocol != NGX_CONF_UNSET_UINT) {
        return const_cast<char *>("is duplicate");
    }
    ngx_str_t *value = args(cf);
    const std::optional<wa_pair::Protocol> protocol = wa_pair::parse_protocol(view(value[1]));
    if (!protocol) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\", it must be \"native\", \"origin\", \"gowa\", "
                           "\"waha\", \"wuzapi\" or \"evolution\"",
                           &value[1]);
        return WA_PAIR_CONF_ERROR;
    }
    lcf->backend_protocol = static_cast<ngx_uint_t>(*protocol);
    return NGX_CONF_OK;
}

// wa_pair_next_upstream error | timeout | ... | off;  proxy_next_upstream's values but
// non_idempotent: a pairing request that was sent is never sent again, since each one makes
// WhatsApp replace the code it issued before.
char *next_upstream_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    auto *lcf = static_cast<wa_pair_loc_conf_t *>(conf);
    ngx_uint_t &mask = lcf->upstream.next_upstream;
    if (mask != 0) {
        return const_cast<char *>("is duplicate");
    }
    mask = NGX_CONF_BITMASK_SET;
    ngx_str_t *value = args(cf);
    for (ngx_uint_t i = 1; i < cf->args->nelts; i++) {
        const std::string_view name = view(value[i]);
        if (name == "non_idempotent") {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" does not take \"non_idempotent\": a pairing request that "
                               "was sent is never sent again (each one replaces the code before it)",
                               &cmd->name);
            return WA_PAIR_CONF_ERROR;
        }
        const NextUpstream *found = nullptr;
        for (const NextUpstream &n : kNextUpstream) {
            if (n.name == name) {
                found = &n;
            }
        }
        if (found == nullptr) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"%V\"", &value[i], &cmd->name);
            return WA_PAIR_CONF_ERROR;
        }
        if (found->mask != NGX_HTTP_UPSTREAM_FT_ERROR && found->mask != NGX_HTTP_UPSTREAM_FT_TIMEOUT &&
            found->mask != NGX_HTTP_UPSTREAM_FT_OFF) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "\"%V %V\" has no effect: an answer means the pairing request was "
                               "sent, and it is never sent again",
                               &cmd->name, &value[i]);
        }
        mask |= found->mask;
    }
    if ((mask & NGX_HTTP_UPSTREAM_FT_OFF) && cf->args->nelts > 2) {
        return const_cast<char *>("takes \"off\" alone");
    }
    return NGX_CONF_OK;
}

char *check_buffer_size(ngx_conf_t *cf, void *post, void *data) noexcept {
    (void)cf;
    (void)post;
    const size_t size = *static_cast<size_t *>(data);
    return (size < 1024 || size > 64 * 1024 * 1024) ? const_cast<char *>("must be between 1k and 64m") : NGX_CONF_OK;
}

void create_backend_conf(wa_pair_loc_conf_t *conf) noexcept {
    // ngx_pcalloc: backend_raw, backend_cv, upstream.upstream and next_upstream unset (0)
    conf->backend_protocol = NGX_CONF_UNSET_UINT;
    conf->backend_headers = static_cast<ngx_array_t *>(NGX_CONF_UNSET_PTR);
    conf->backend_buffer_size = NGX_CONF_UNSET_SIZE;
    conf->connect_timeout = NGX_CONF_UNSET_MSEC;
    conf->backend_timeout = NGX_CONF_UNSET_MSEC;
}

// After the core's merge: the backend, its protocol and its headers are inherited together
// with the location's own values winning, as proxy_pass and proxy_set_header are.
char *merge_backend_conf(ngx_conf_t *cf, wa_pair_loc_conf_t *prev, wa_pair_loc_conf_t *conf) noexcept {
    if (conf->backend_raw.data == nullptr) {
        conf->backend_raw = prev->backend_raw;
        conf->backend_cv = prev->backend_cv;
        conf->backend_tls = prev->backend_tls;
        conf->backend_address = prev->backend_address;
        conf->backend_host = prev->backend_host;
        conf->backend_own_uri = prev->backend_own_uri;
        conf->upstream.upstream = prev->upstream.upstream;
    }
    ngx_conf_merge_uint_value(conf->backend_protocol, prev->backend_protocol,
                              static_cast<ngx_uint_t>(wa_pair::Protocol::native));
    ngx_conf_merge_ptr_value(conf->backend_headers, prev->backend_headers, nullptr);
    ngx_conf_merge_size_value(conf->backend_buffer_size, prev->backend_buffer_size, 16384);
    ngx_conf_merge_msec_value(conf->connect_timeout, prev->connect_timeout, 5000);
    // Above the slowest engine's own limit (origin: a 90 s context and a 20 s handshake,
    // docs/engines.md): a 504 while a code is still being made invites a retry that kills it.
    ngx_conf_merge_msec_value(conf->backend_timeout, prev->backend_timeout, 100000);

    // The call's upstream settings. The whole answer is the "header" nginx waits for (the
    // module reads it before it answers), so read_timeout bounds the time from the request
    // written to the answer's last byte.
    ngx_http_upstream_conf_t &u = conf->upstream;
    u.connect_timeout = conf->connect_timeout;
    u.send_timeout = conf->backend_timeout;
    u.read_timeout = conf->backend_timeout;
    u.buffer_size = static_cast<size_t>(ngx_pagesize);  // the receive buffer; the cap is the reader's
    ngx_conf_merge_bitmask_value(u.next_upstream, prev->upstream.next_upstream,
                                 NGX_CONF_BITMASK_SET | NGX_HTTP_UPSTREAM_FT_ERROR | NGX_HTTP_UPSTREAM_FT_TIMEOUT);
    if (u.next_upstream & NGX_HTTP_UPSTREAM_FT_OFF) {
        u.next_upstream = NGX_CONF_BITMASK_SET | NGX_HTTP_UPSTREAM_FT_OFF;
    }
    ngx_str_set(&u.module, "wa_pair");

    if (conf->backend_raw.data == nullptr || conf->backend_cv != nullptr) {
        return NGX_CONF_OK;
    }
    try {
        if (!prepare_static_backend(cf, conf)) {
            return WA_PAIR_CONF_ERROR;
        }
    } catch (...) {
        static const ngx_str_t name = ngx_string("wa_pair_backend");
        conf_log_caught(cf, name);
        return WA_PAIR_CONF_ERROR;
    }
    return NGX_CONF_OK;
}

}  // namespace ngx_wa_pair
