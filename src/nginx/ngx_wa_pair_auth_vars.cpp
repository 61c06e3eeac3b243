// $wa_pair_auth ("jwt" or "api_key"): how the request authenticated, for access logs. Empty
// (not found) until authentication succeeded. $wa_pair_device_id, percent-encoded so that it
// is safe in a backend URL too, is in ngx_wa_pair_backend_vars.cpp.

#include "nginx/ngx_wa_pair_conf.hpp"

namespace ngx_wa_pair {

namespace {

ngx_int_t auth_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t) noexcept {
    RequestCtx *ctx = get_ctx(r->main);
    std::string_view value;
    if (ctx != nullptr) {
        value = ctx->auth_method;
    }
    if (value.empty()) {
        v->not_found = 1;
        return NGX_OK;
    }
    // The ctx outlives the log phase (it is freed with the request pool).
    v->data = reinterpret_cast<u_char *>(const_cast<char *>(value.data()));
    v->len = static_cast<unsigned>(value.size());
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    return NGX_OK;
}

ngx_http_variable_t variables[] = {
    {ngx_string("wa_pair_auth"), nullptr, auth_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0},
};

}  // namespace

ngx_int_t add_auth_variables(ngx_conf_t *cf) noexcept {
    for (ngx_http_variable_t &v : variables) {
        ngx_http_variable_t *var = ngx_http_add_variable(cf, &v.name, v.flags);
        if (var == nullptr) {
            return NGX_ERROR;
        }
        var->get_handler = v.get_handler;
        var->data = v.data;
    }
    return NGX_OK;
}

}  // namespace ngx_wa_pair
