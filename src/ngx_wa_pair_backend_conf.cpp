// The backend's directives (wa_pair_backend, wa_pair_backend_protocol, wa_pair_backend_header,
// wa_pair_backend_buffer_size), their inheritance, and their values per request. Every value
// that can be checked is checked at nginx -t; values with variables are checked again per
// request, where a bad one is logged (never a header value: they carry API keys).

#include <string>

#include "ngx_wa_pair_conf.hpp"
#include "backend.hpp"

namespace ngx_wa_pair {

namespace {

ngx_str_t *args(ngx_conf_t *cf) {
    return static_cast<ngx_str_t *>(cf->args->elts);
}

bool copy_cstr(ngx_conf_t *cf, const std::string &from, ngx_str_t &to) {
    to.len = from.size();
    to.data = static_cast<u_char *>(ngx_pnalloc(cf->pool, from.size() + 1));
    if (to.data == nullptr) {
        return false;
    }
    ngx_memcpy(to.data, from.c_str(), from.size() + 1);
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

}  // namespace

// wa_pair_backend URL;  a value with variables is a complex value, evaluated per request.
char *backend_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    auto *lcf = static_cast<wa_pair_loc_conf_t *>(conf);
    if (lcf->backend_raw.data != nullptr) {
        return const_cast<char *>("is duplicate");
    }
    ngx_str_t *value = args(cf);
    try {
        const bool variables = ngx_http_script_variables_count(&value[1]) > 0;
        // The protocol (and so the default path) may be set later or inherited: the URL is
        // parsed for libcurl at merge time; here its syntax is checked, so nginx -t names
        // this line.
        std::string error = variables ? wa_pair::check_backend_url_template(view(value[1]))
                                      : wa_pair::parse_backend_url(view(value[1])).error;
        if (!error.empty()) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"%V\": %s", &value[1],
                               &cmd->name, error.c_str());
            return WA_PAIR_CONF_ERROR;
        }
        if (variables) {
            lcf->backend_cv = static_cast<ngx_http_complex_value_t *>(
                ngx_pcalloc(cf->pool, sizeof(ngx_http_complex_value_t)));
            if (lcf->backend_cv == nullptr || !compile(cf, &value[1], lcf->backend_cv)) {
                return WA_PAIR_CONF_ERROR;
            }
        }
        lcf->backend_raw = value[1];
    } catch (...) {
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
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid header name \"%V\" in \"%V\": %s",
                               &value[1], &cmd->name, error.c_str());
            return WA_PAIR_CONF_ERROR;
        }
    } catch (...) {
        return WA_PAIR_CONF_ERROR;
    }
    // The value as written (variables included) must not split the request; the value is
    // not repeated in the message.
    if (!wa_pair::valid_header_value(view(value[2]))) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the value of header \"%V\" in \"%V\" has control characters",
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
    (void) cmd;
    if (lcf->backend_protocol != NGX_CONF_UNSET_UINT) {
        return const_cast<char *>("is duplicate");
    }
    ngx_str_t *value = args(cf);
    wa_pair::Protocol protocol;
    if (!wa_pair::parse_protocol(view(value[1]), protocol)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\", it must be \"native\", \"origin\", \"gowa\", "
                           "\"waha\", \"wuzapi\" or \"evolution\"",
                           &value[1]);
        return WA_PAIR_CONF_ERROR;
    }
    lcf->backend_protocol = static_cast<ngx_uint_t>(protocol);
    return NGX_CONF_OK;
}

char *check_buffer_size(ngx_conf_t *cf, void *post, void *data) noexcept {
    (void) cf;
    (void) post;
    const size_t size = *static_cast<size_t *>(data);
    return (size < 1024 || size > 64 * 1024 * 1024)
               ? const_cast<char *>("must be between 1k and 64m")
               : NGX_CONF_OK;
}

// After the core's merge: the backend, its protocol and its headers are inherited together
// with the location's own values winning, as proxy_pass and proxy_set_header are.
char *merge_backend_conf(ngx_conf_t *cf, wa_pair_loc_conf_t *prev, wa_pair_loc_conf_t *conf) noexcept {
    if (conf->backend_raw.data == nullptr) {
        conf->backend_raw = prev->backend_raw;
        conf->backend_cv = prev->backend_cv;
    }
    ngx_conf_merge_uint_value(conf->backend_protocol, prev->backend_protocol,
                              static_cast<ngx_uint_t>(wa_pair::Protocol::native));
    ngx_conf_merge_ptr_value(conf->backend_headers, prev->backend_headers, nullptr);
    ngx_conf_merge_size_value(conf->backend_buffer_size, prev->backend_buffer_size, 16384);

    if (conf->backend_raw.data == nullptr || conf->backend_cv != nullptr) {
        return NGX_CONF_OK;
    }
    try {
        // A URL without a path calls the protocol's documented one.
        wa_pair::BackendUrl url =
            wa_pair::parse_backend_url(view(conf->backend_raw), wa_pair::default_path(protocol_of(conf)));
        if (!url.error.empty()) {  // checked by the directive already
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid \"wa_pair_backend\" \"%V\": %s",
                               &conf->backend_raw, url.error.c_str());
            return WA_PAIR_CONF_ERROR;
        }
        if (!copy_cstr(cf, url.url, conf->backend_url) ||
            !copy_cstr(cf, url.unix_socket, conf->backend_unix) ||
            !copy_cstr(cf, wa_pair::backend_log_name(url), conf->backend_log_name)) {
            return WA_PAIR_CONF_ERROR;
        }
        // Parsed by libcurl here, once, rather than on every call (DESIGN.md section 6).
        if (!wa_pair::parsed_url_create(cf->pool, reinterpret_cast<const char *>(conf->backend_url.data),
                                        conf->backend_parsed)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "libcurl cannot parse \"wa_pair_backend\" \"%V\"",
                               &conf->backend_raw);
            return WA_PAIR_CONF_ERROR;
        }
    } catch (...) {
        return WA_PAIR_CONF_ERROR;
    }
    return NGX_CONF_OK;
}

bool evaluate_backend(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, BackendTarget &target) {
    if (lcf->backend_cv == nullptr) {
        target.url = reinterpret_cast<const char *>(lcf->backend_url.data);
        target.unix_socket = lcf->backend_unix.len > 0 ? reinterpret_cast<const char *>(lcf->backend_unix.data)
                                                       : nullptr;
        target.parsed = &lcf->backend_parsed;
    } else {
        ngx_str_t value;
        if (ngx_http_complex_value(r, lcf->backend_cv, &value) != NGX_OK) {
            return false;
        }
        wa_pair::BackendUrl &url = target.evaluated;
        url = wa_pair::parse_backend_url(view(value), wa_pair::default_path(protocol_of(lcf)));
        if (!url.error.empty()) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "wa_pair: \"wa_pair_backend %V\" gave an invalid URL for this request: %s",
                          &lcf->backend_raw, url.error.c_str());
            return false;
        }
        target.log_name = wa_pair::backend_log_name(url);
        target.url = url.url.c_str();
        target.unix_socket = url.unix_socket.empty() ? nullptr : url.unix_socket.c_str();
    }

    if (lcf->backend_headers == nullptr) {
        return true;
    }
    auto *h = static_cast<backend_header_t *>(lcf->backend_headers->elts);
    for (ngx_uint_t i = 0; i < lcf->backend_headers->nelts; i++) {
        ngx_str_t value;
        if (ngx_http_complex_value(r, &h[i].value, &value) != NGX_OK) {
            return false;
        }
        if (!wa_pair::valid_header_value(view(value))) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "wa_pair: the value of \"wa_pair_backend_header %V\" has control "
                          "characters in this request: not sent",
                          &h[i].name);
            return false;
        }
        target.headers.push_back(wa_pair::Header{std::string(view(h[i].name)), std::string(view(value))});
    }
    return true;
}

}  // namespace ngx_wa_pair
