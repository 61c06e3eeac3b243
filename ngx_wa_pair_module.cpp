// ngx_wa_pair: POST /devices/me/login-code at the edge (docs/architecture.md). This file wires the
// module together: directives, configuration lifecycle, per-worker setup. The handler lives
// in src/nginx/ngx_wa_pair_handler.cpp, the decisions in the core (src/*.cpp without ngx_).

#include "nginx/ngx_wa_pair_conf.hpp"
#include "nginx/ngx_wa_pair_jwks.hpp"

namespace ngx_wa_pair {
namespace {

ngx_int_t preconfiguration(ngx_conf_t *cf) noexcept;
void *create_main_conf(ngx_conf_t *cf) noexcept;
void *create_loc_conf(ngx_conf_t *cf) noexcept;
char *merge_loc_conf(ngx_conf_t *cf, void *parent, void *child) noexcept;
ngx_int_t postconfiguration(ngx_conf_t *cf) noexcept;
ngx_int_t init_process(ngx_cycle_t *cycle) noexcept;
void exit_process(ngx_cycle_t *cycle) noexcept;

// ---------------------------------------------------------------- directives

ngx_conf_post_t positive_msec_post = {check_positive_msec};
ngx_conf_post_t code_timeout_post = {check_code_timeout};
ngx_conf_post_t leeway_post = {check_leeway};
ngx_conf_post_t claim_post = {check_claim};
ngx_conf_post_t buffer_size_post = {check_buffer_size};

constexpr ngx_uint_t kAnyLevel = NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF;

ngx_command_t commands[] = {
    {ngx_string("wa_pair"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, wa_pair_directive, NGX_HTTP_LOC_CONF_OFFSET, 0,
     nullptr},

    {ngx_string("wa_pair_authenticate"), kAnyLevel | NGX_CONF_FLAG, ngx_conf_set_flag_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(wa_pair_loc_conf_t, authenticate), nullptr},

    {ngx_string("wa_pair_placement"), kAnyLevel | NGX_CONF_TAKE1, ngx_http_set_complex_value_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(wa_pair_loc_conf_t, placement), nullptr},

    {ngx_string("wa_pair_backend"), kAnyLevel | NGX_CONF_TAKE1, backend_directive, NGX_HTTP_LOC_CONF_OFFSET, 0,
     nullptr},

    {ngx_string("wa_pair_backend_protocol"), kAnyLevel | NGX_CONF_TAKE1, protocol_directive, NGX_HTTP_LOC_CONF_OFFSET,
     0, nullptr},

    {ngx_string("wa_pair_backend_header"), kAnyLevel | NGX_CONF_TAKE2, backend_header_directive,
     NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},

    {ngx_string("wa_pair_backend_buffer_size"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_size_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(wa_pair_loc_conf_t, backend_buffer_size), &buffer_size_post},

    {ngx_string("wa_pair_connect_timeout"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_msec_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(wa_pair_loc_conf_t, connect_timeout), &positive_msec_post},

    {ngx_string("wa_pair_backend_timeout"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_msec_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(wa_pair_loc_conf_t, backend_timeout), &positive_msec_post},

    {ngx_string("wa_pair_next_upstream"), kAnyLevel | NGX_CONF_1MORE, next_upstream_directive, NGX_HTTP_LOC_CONF_OFFSET,
     0, nullptr},

    {ngx_string("wa_pair_session_start"), kAnyLevel | NGX_CONF_FLAG, ngx_conf_set_flag_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(wa_pair_loc_conf_t, session_start), nullptr},

#if (NGX_HTTP_SSL)
    {ngx_string("wa_pair_ssl_verify"), kAnyLevel | NGX_CONF_FLAG, ngx_conf_set_flag_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(wa_pair_loc_conf_t, upstream.ssl_verify), nullptr},

    {ngx_string("wa_pair_ssl_trusted_certificate"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_str_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(wa_pair_loc_conf_t, ssl_trusted_certificate), nullptr},

    {ngx_string("wa_pair_ssl_verify_depth"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_num_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(wa_pair_loc_conf_t, ssl_verify_depth), nullptr},

    {ngx_string("wa_pair_ssl_server_name"), kAnyLevel | NGX_CONF_FLAG, ngx_conf_set_flag_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(wa_pair_loc_conf_t, upstream.ssl_server_name), nullptr},

    {ngx_string("wa_pair_ssl_name"), kAnyLevel | NGX_CONF_TAKE1, ngx_http_set_complex_value_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(wa_pair_loc_conf_t, upstream.ssl_name), nullptr},

    {ngx_string("wa_pair_ssl_certificate"), kAnyLevel | NGX_CONF_TAKE1, ngx_http_set_complex_value_zero_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(wa_pair_loc_conf_t, upstream.ssl_certificate), nullptr},

    {ngx_string("wa_pair_ssl_certificate_key"), kAnyLevel | NGX_CONF_TAKE1, ngx_http_set_complex_value_zero_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(wa_pair_loc_conf_t, upstream.ssl_certificate_key), nullptr},

    {ngx_string("wa_pair_ssl_protocols"), kAnyLevel | NGX_CONF_1MORE, ngx_conf_set_bitmask_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(wa_pair_loc_conf_t, ssl_protocols), ssl_protocol_masks},

    {ngx_string("wa_pair_ssl_session_reuse"), kAnyLevel | NGX_CONF_FLAG, ngx_conf_set_flag_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(wa_pair_loc_conf_t, upstream.ssl_session_reuse), nullptr},
#endif

    {ngx_string("wa_pair_code_timeout"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_sec_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(wa_pair_loc_conf_t, code_timeout), &code_timeout_post},

    {ngx_string("wa_pair_jwt_secret_file"), kAnyLevel | NGX_CONF_TAKE1, secret_file_directive, NGX_HTTP_LOC_CONF_OFFSET,
     0, nullptr},

    {ngx_string("wa_pair_jwt_device_claim"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_str_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(wa_pair_loc_conf_t, jwt_device_claim), &claim_post},

    {ngx_string("wa_pair_jwt_leeway"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_sec_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(wa_pair_loc_conf_t, jwt_leeway), &leeway_post},

    {ngx_string("wa_pair_zone"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, zone_directive, NGX_HTTP_MAIN_CONF_OFFSET, 0,
     nullptr},

    {ngx_string("wa_pair_zone_use"), kAnyLevel | NGX_CONF_TAKE1, zone_use_directive, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(wa_pair_loc_conf_t, zone), nullptr},

    {ngx_string("wa_pair_reuse"), kAnyLevel | NGX_CONF_FLAG, ngx_conf_set_flag_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(wa_pair_loc_conf_t, zone.reuse), nullptr},

    {ngx_string("wa_pair_reuse_margin"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_msec_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(wa_pair_loc_conf_t, zone.reuse_margin), &zone_reuse_margin_post},

    {ngx_string("wa_pair_limit"), kAnyLevel | NGX_CONF_1MORE, limit_directive, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(wa_pair_loc_conf_t, zone), nullptr},

    {ngx_string("wa_pair_jwt_key_file"), kAnyLevel | NGX_CONF_TAKE1, key_file_directive, NGX_HTTP_LOC_CONF_OFFSET, 0,
     nullptr},

    {ngx_string("wa_pair_jwt_algorithms"), kAnyLevel | NGX_CONF_1MORE, algorithms_directive, NGX_HTTP_LOC_CONF_OFFSET,
     0, nullptr},

    {ngx_string("wa_pair_jwt_require"), kAnyLevel | NGX_CONF_1MORE, require_directive, NGX_HTTP_LOC_CONF_OFFSET, 0,
     nullptr},

    {ngx_string("wa_pair_api_keys_file"), kAnyLevel | NGX_CONF_TAKE1, api_keys_file_directive, NGX_HTTP_LOC_CONF_OFFSET,
     0, nullptr},

    {ngx_string("wa_pair_jwt_revocation_file"), kAnyLevel | NGX_CONF_TAKE1, revocation_file_directive,
     NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},

    {ngx_string("wa_pair_jwt_jwks_url"), kAnyLevel | NGX_CONF_TAKE12, jwks_source_directive, NGX_HTTP_LOC_CONF_OFFSET,
     0, nullptr},

    {ngx_string("wa_pair_jwt_issuer"), kAnyLevel | NGX_CONF_TAKE12, jwks_source_directive, NGX_HTTP_LOC_CONF_OFFSET, 0,
     nullptr},

    {ngx_string("wa_pair_jwt_jwks_redirect"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, jwks_redirect_directive,
     NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},

    {ngx_string("wa_pair_jwt_jwks_trusted_certificate"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, jwks_ca_directive,
     NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},

    {ngx_string("wa_pair_jwt_jwks_timeout"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, jwks_timeout_directive,
     NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},

    // pairing completion: src/nginx/ngx_wa_pair_events.cpp, src/nginx/ngx_wa_pair_status.cpp
    {ngx_string("wa_pair_events"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, events_directive, NGX_HTTP_LOC_CONF_OFFSET, 0,
     nullptr},

    {ngx_string("wa_pair_events_protocol"), kAnyLevel | NGX_CONF_TAKE1, events_protocol_directive,
     NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},

    {ngx_string("wa_pair_events_secret_file"), kAnyLevel | NGX_CONF_TAKE1, events_secret_file_directive,
     NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},

    {ngx_string("wa_pair_events_header"), kAnyLevel | NGX_CONF_TAKE2, events_header_directive, NGX_HTTP_LOC_CONF_OFFSET,
     0, nullptr},

    {ngx_string("wa_pair_events_zone"), kAnyLevel | NGX_CONF_TAKE1, events_zone_directive, NGX_HTTP_LOC_CONF_OFFSET, 0,
     nullptr},

    {ngx_string("wa_pair_linked_ttl"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_sec_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(wa_pair_loc_conf_t, events.linked_ttl), &linked_ttl_post},

    {ngx_string("wa_pair_status"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, status_directive, NGX_HTTP_LOC_CONF_OFFSET, 0,
     nullptr},

    ngx_null_command};

ngx_http_module_t module_ctx = {
    preconfiguration,   // preconfiguration
    postconfiguration,  // postconfiguration
    create_main_conf,   // create main configuration
    nullptr,            // init main configuration
    nullptr,            // create server configuration
    nullptr,            // merge server configuration
    create_loc_conf,    // create location configuration
    merge_loc_conf      // merge location configuration
};

}  // namespace
}  // namespace ngx_wa_pair

extern "C" {
ngx_module_t ngx_http_wa_pair_module = {NGX_MODULE_V1,
                                        &ngx_wa_pair::module_ctx,   // module context
                                        ngx_wa_pair::commands,      // module directives
                                        NGX_HTTP_MODULE,            // module type
                                        nullptr,                    // init master
                                        nullptr,                    // init module
                                        ngx_wa_pair::init_process,  // init process
                                        nullptr,                    // init thread
                                        nullptr,                    // exit thread
                                        ngx_wa_pair::exit_process,  // exit process
                                        nullptr,                    // exit master
                                        NGX_MODULE_V1_PADDING};
}

namespace ngx_wa_pair {
namespace {

ngx_int_t preconfiguration(ngx_conf_t *cf) noexcept {
    return add_variables(cf);
}

void *create_main_conf(ngx_conf_t *cf) noexcept {
    auto *mcf = static_cast<wa_pair_main_conf_t *>(ngx_pcalloc(cf->pool, sizeof(wa_pair_main_conf_t)));
    if (mcf == nullptr) {
        return nullptr;
    }
    mcf->request_id_index = NGX_ERROR;
    return mcf;
}

void *create_loc_conf(ngx_conf_t *cf) noexcept {
    auto *lcf = static_cast<wa_pair_loc_conf_t *>(ngx_pcalloc(cf->pool, sizeof(wa_pair_loc_conf_t)));
    if (lcf == nullptr) {
        return nullptr;
    }
    // pcalloc: enable = 0, jwt_secret/jwt_device_claim unset (NULL)
    lcf->authenticate = NGX_CONF_UNSET;
    lcf->placement = static_cast<ngx_http_complex_value_t *>(NGX_CONF_UNSET_PTR);
    create_backend_conf(lcf);
    lcf->session_start = NGX_CONF_UNSET;
    create_ssl_conf(lcf);
    lcf->code_timeout = NGX_CONF_UNSET;
    lcf->jwt_leeway = NGX_CONF_UNSET;
    zone_create_loc_conf(&lcf->zone);
    events_create_loc_conf(&lcf->events);
    return lcf;
}

char *merge_loc_conf(ngx_conf_t *cf, void *parent, void *child) noexcept {
    auto *prev = static_cast<wa_pair_loc_conf_t *>(parent);
    auto *conf = static_cast<wa_pair_loc_conf_t *>(child);

    if (merge_backend_conf(cf, prev, conf) != NGX_CONF_OK) {
        return WA_PAIR_CONF_ERROR;
    }
    if (conf->jwt_secret.data == nullptr) {
        conf->jwt_secret = prev->jwt_secret;
    }
    ngx_conf_merge_sec_value(conf->code_timeout, prev->code_timeout, 120);
    ngx_conf_merge_str_value(conf->jwt_device_claim, prev->jwt_device_claim, "device_id");
    ngx_conf_merge_sec_value(conf->jwt_leeway, prev->jwt_leeway, 0);
    ngx_conf_merge_value(conf->authenticate, prev->authenticate, 0);
    ngx_conf_merge_ptr_value(conf->placement, prev->placement, nullptr);
    if (zone_merge_loc_conf(cf, &prev->zone, &conf->zone, conf->enable) != NGX_CONF_OK) {
        return WA_PAIR_CONF_ERROR;
    }
    if (events_merge_loc_conf(cf, &prev->events, &conf->events, conf->zone.shm_zone) != NGX_CONF_OK) {
        return WA_PAIR_CONF_ERROR;
    }
    if (conf->enable && (conf->events.enable || conf->events.status)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"wa_pair\", \"wa_pair_events\" and \"wa_pair_status\" need a location each");
        return WA_PAIR_CONF_ERROR;
    }
    // In a zone a call goes on when its client leaves: others may wait for it, and a retry
    // reuses its code instead of asking WhatsApp again (which would kill that code).
    conf->upstream.ignore_client_abort = conf->zone.shm_zone != nullptr;
    if (merge_ssl_conf(cf, prev, conf) != NGX_CONF_OK) {
        return WA_PAIR_CONF_ERROR;
    }

    if (conf->enable) {
        // nginx checks Content-Length against client_max_body_size before any handler; a
        // wa_pair location authenticates first (docs/architecture.md §1), so the module takes the
        // limit over and enforces it itself, after authentication (the core's merge ran first).
        conf->max_body_size = conf->core->client_max_body_size;
        conf->core->client_max_body_size = 0;
    }
    if (conf->enable && conf->backend_raw.data == nullptr) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"wa_pair\" requires \"wa_pair_backend\"");
        return WA_PAIR_CONF_ERROR;
    }
    if (merge_session_conf(cf, prev, conf) != NGX_CONF_OK) {
        return WA_PAIR_CONF_ERROR;
    }
    return merge_auth_conf(cf, prev, conf);
}

ngx_int_t postconfiguration(ngx_conf_t *cf) noexcept {
    auto *mcf = static_cast<wa_pair_main_conf_t *>(ngx_http_conf_get_module_main_conf(cf, ngx_http_wa_pair_module));
    ngx_str_t name = ngx_string("request_id");
    mcf->request_id_index = ngx_http_get_variable_index(cf, &name);
    if (mcf->request_id_index == NGX_ERROR) {
        return NGX_ERROR;
    }

    check_shared_tls_sessions(cf, mcf);
    if (jwks_postconfiguration(cf) != NGX_OK) {
        return NGX_ERROR;
    }
    install_filters();
    return install_access_handler(cf);
}

ngx_int_t init_process(ngx_cycle_t *cycle) noexcept {
    request_id_worker_init();
    return jwks_worker_init(cycle);
}

void exit_process(ngx_cycle_t *) noexcept {
    jwks_worker_exit();
}

}  // namespace
}  // namespace ngx_wa_pair
