// The nginx side of ngx_wa_pair: configuration structs, the request context, and the
// functions the glue files share. Only the glue (ngx_*.cpp) includes this header.
#pragma once

#include <string>
#include <string_view>

#include "ngx_wa_pair_nginx.hpp"
#include "ngx_wa_pair_curl.hpp"
#include "ngx_wa_pair_zone.hpp"
#include "envelope.hpp"

namespace wa_pair {
struct AuthConfig;
}

namespace ngx_wa_pair {

struct AuthDirectives;  // ngx_wa_pair_auth_conf.cpp

struct wa_pair_main_conf_t {
    ngx_int_t request_id_index;
};

struct wa_pair_loc_conf_t {
    ngx_flag_t enable;            // `wa_pair;` in this very location (not inherited)
    ngx_http_core_loc_conf_t *core;  // that location's core conf (client_max_body_size)
    off_t max_body_size;          // client_max_body_size, enforced after authentication
    ngx_str_t backend_url;        // NUL-terminated, for libcurl; data == NULL: unset
    ngx_str_t backend_unix;       // NUL-terminated socket path, empty for TCP
    ngx_msec_t connect_timeout;
    ngx_msec_t backend_timeout;
    time_t code_timeout;
    ngx_str_t jwt_secret;         // raw bytes; data == NULL: unset
    ngx_str_t jwt_device_claim;
    time_t jwt_leeway;
    ZoneLocConf zone;             // the edge policy: wa_pair_zone_use, wa_pair_reuse*, wa_pair_limit
    AuthDirectives *auth;         // this level's key files, allow-list, requirements, API keys,
                                  // revocations (inherited when NULL)
    const wa_pair::AuthConfig *auth_config;  // a wa_pair location's, built in merge
};

// Per request. C++ members: created with new, deleted by a request pool cleanup.
struct RequestCtx {
    ngx_http_request_t *r = nullptr;
    bool responded = false;       // our envelope was sent (the error filter leaves it alone)
    bool reading_body = false;    // the body filter counts bytes while set
    off_t body_limit = 0;
    off_t body_bytes = 0;
    std::string device_id;
    std::string_view auth_method;  // "jwt" or "api_key" once authenticated
    std::string api_key_id;       // the token's claims forwarded to the backend ("" absent)
    std::string token_version;
    std::string phone;            // digits; logged only masked
    bool replace_body = false;    // an nginx error page is being replaced by error_page
    bool error_page_sent = false;
    std::string error_page;
    wa_pair::Transfer transfer;
    ZoneRequest zone;             // the request's part in the edge policy
};


// ngx_wa_pair_response.cpp: request context, headers, envelopes
std::string_view view(const ngx_str_t &s);
wa_pair_loc_conf_t *loc_conf(ngx_http_request_t *r);
RequestCtx *get_ctx(ngx_http_request_t *r);
RequestCtx *create_ctx(ngx_http_request_t *r);
bool add_header(ngx_http_request_t *r, std::string_view name, std::string_view value);
std::string_view request_id(ngx_http_request_t *r);
bool set_envelope_headers(ngx_http_request_t *r, ngx_uint_t status, size_t length);
ngx_buf_t *make_buf(ngx_http_request_t *r, const std::string &body);
ngx_int_t send_envelope(ngx_http_request_t *r, int code, const std::string &body);
ngx_int_t send_failure(ngx_http_request_t *r, const wa_pair::Failure &f);
ngx_int_t reject(ngx_http_request_t *r, const wa_pair::Failure &f);

// ngx_wa_pair_handler.cpp: the content handler and the backend call
ngx_int_t handler(ngx_http_request_t *r) noexcept;

// ngx_wa_pair_filters.cpp: nginx's own error pages as envelopes, the body size limit
void install_filters() noexcept;

// ngx_wa_pair_directives.cpp
char *wa_pair_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *backend_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *secret_file_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *check_positive_msec(ngx_conf_t *cf, void *post, void *data) noexcept;
char *check_code_timeout(ngx_conf_t *cf, void *post, void *data) noexcept;
char *check_leeway(ngx_conf_t *cf, void *post, void *data) noexcept;
char *check_claim(ngx_conf_t *cf, void *post, void *data) noexcept;

// ngx_wa_pair_auth_conf.cpp: key files, allow-list, claim requirements, API keys, revocations
char *key_file_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *algorithms_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *require_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *api_keys_file_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *revocation_file_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
// Inherits the auth directives and, for a wa_pair location, builds its AuthConfig (or fails
// when it has no credential source).
char *merge_auth_conf(ngx_conf_t *cf, wa_pair_loc_conf_t *prev, wa_pair_loc_conf_t *conf) noexcept;

// ngx_wa_pair_auth_vars.cpp: $wa_pair_device_id, $wa_pair_auth
ngx_int_t add_auth_variables(ngx_conf_t *cf) noexcept;

}  // namespace ngx_wa_pair
