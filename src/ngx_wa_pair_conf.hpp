// The nginx side of ngx_wa_pair: configuration structs, the request context, and the
// functions the glue files share. Only the glue (ngx_*.cpp) includes this header.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ngx_wa_pair_nginx.hpp"
#include "ngx_wa_pair_link.hpp"
#include "ngx_wa_pair_zone.hpp"
#include "backend.hpp"
#include "envelope.hpp"
#include "outcome.hpp"
#include "protocol.hpp"

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
    ngx_str_t backend_raw;        // wa_pair_backend as written; data == NULL: unset
    ngx_http_complex_value_t *backend_cv;  // when that value has variables, else NULL
    ngx_str_t backend_url;        // static value, parsed at merge: NUL-terminated, for libcurl
    ngx_str_t backend_unix;       // static value: NUL-terminated socket path, empty for TCP
    wa_pair::ParsedUrl backend_parsed;  // static value: backend_url parsed by libcurl
    ngx_str_t backend_log_name;   // static value: NUL-terminated, for the error log
    ngx_uint_t backend_protocol;  // wa_pair::Protocol
    ngx_array_t *backend_headers; // of backend_header_t, or NULL
    size_t backend_buffer_size;   // the cap on the answer's head and on its body
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

// wa_pair_backend_header Name value;
struct backend_header_t {
    ngx_str_t name;
    ngx_http_complex_value_t value;
};

// Per request. C++ members: constructed in the request pool, destroyed by a pool cleanup.
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
    std::optional<wa_pair::Call> call;  // the backend call, made when the request gets that far
    ZoneRequest zone;             // the request's part in the edge policy
    wa_pair::Outcome outcome = wa_pair::Outcome::none;  // $wa_pair_outcome
    bool backend_called = false;  // $wa_pair_backend_time
    bool backend_done = false;
    ngx_msec_t backend_start = 0;
    ngx_msec_t backend_end = 0;
    // for the error log: no query string, no header values; the location's own text for a
    // static wa_pair_backend, else backend_name_buf's
    const char *backend_name = "";
    std::string backend_name_buf;
};

// The backend of one request, with its variables evaluated. A static wa_pair_backend's values
// point into the location's conf (prepared at nginx -t); a value with variables is evaluated
// into `evaluated`. All NUL-terminated.
struct BackendTarget {
    const char *url = nullptr;    // without the protocol's query
    const char *unix_socket = nullptr;  // NULL for TCP
    const wa_pair::ParsedUrl *parsed = nullptr;  // `url` parsed by libcurl (static values)
    wa_pair::BackendUrl evaluated;
    std::string log_name;         // "unix:/run/x.sock:/path" or "http://127.0.0.1:8080/path",
                                  // for a value with variables
    std::vector<wa_pair::Header> headers;  // the operator's
};


// ngx_wa_pair_response.cpp: request context, headers, envelopes
std::string_view view(const ngx_str_t &s);
wa_pair_loc_conf_t *loc_conf(ngx_http_request_t *r);
RequestCtx *get_ctx(ngx_http_request_t *r);
RequestCtx *create_ctx(ngx_http_request_t *r);
bool add_header(ngx_http_request_t *r, std::string_view name, std::string_view value);
std::string_view request_id(ngx_http_request_t *r);
void request_id_worker_init();  // init_process: this worker's own random batch
bool set_envelope_headers(ngx_http_request_t *r, ngx_uint_t status, size_t length);
ngx_buf_t *make_buf(ngx_http_request_t *r, const std::string &body);
ngx_int_t send_envelope(ngx_http_request_t *r, int code, const std::string &body);
ngx_int_t send_failure(ngx_http_request_t *r, const wa_pair::Failure &f);
ngx_int_t reject(ngx_http_request_t *r, const wa_pair::Failure &f);

// ngx_wa_pair_handler.cpp: the content handler and the backend call
ngx_int_t handler(ngx_http_request_t *r) noexcept;

// ngx_wa_pair_filters.cpp: nginx's own error pages as envelopes, the body size limit
void install_filters() noexcept;

// ngx_wa_pair_backend_conf.cpp: wa_pair_backend*, and their values per request
char *backend_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *backend_header_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *protocol_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *check_buffer_size(ngx_conf_t *cf, void *post, void *data) noexcept;
char *merge_backend_conf(ngx_conf_t *cf, wa_pair_loc_conf_t *prev, wa_pair_loc_conf_t *conf) noexcept;
// false (and an error log line) when a value with variables is unusable for this request
bool evaluate_backend(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, BackendTarget &target);

// ngx_wa_pair_backend_vars.cpp: $wa_pair_backend_time, $wa_pair_outcome, $wa_pair_device_id
ngx_int_t add_backend_variables(ngx_conf_t *cf) noexcept;

// ngx_wa_pair_directives.cpp
char *wa_pair_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
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
