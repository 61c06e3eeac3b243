// The nginx side of ngx_wa_pair: configuration structs, the request context, and the
// functions the glue files share. Only the glue (ngx_*.cpp) includes this header.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nginx/ngx_wa_pair_nginx.hpp"
#include "nginx/ngx_wa_pair_zone.hpp"
#include "nginx/ngx_wa_pair_events.hpp"
#include "nginx/ngx_wa_pair_session.hpp"
#include "backend/backend.hpp"
#include "edge/envelope.hpp"
#include "backend/http1.hpp"
#include "edge/outcome.hpp"
#include "backend/protocol.hpp"

namespace wa_pair {
struct AuthConfig;
}

namespace ngx_wa_pair {

struct AuthDirectives;  // ngx_wa_pair_auth_conf.cpp
struct JwksMain;        // ngx_wa_pair_jwks.hpp
struct JwksUse;

struct wa_pair_main_conf_t {
    ngx_int_t request_id_index;
    ngx_array_t *tls_locations;  // of wa_pair_loc_conf_t *: static https backends (ssl_conf)
    JwksMain *jwks;              // key sources and their settings, null when none
};

struct wa_pair_loc_conf_t {
    ngx_flag_t enable;                     // `wa_pair;` in this very location (not inherited)
    ngx_flag_t authenticate;               // wa_pair_authenticate: the access phase authenticates
    ngx_http_complex_value_t *placement;   // wa_pair_placement: empty for a device means no owner
    ngx_http_core_loc_conf_t *core;        // that location's core conf (client_max_body_size, name)
    off_t max_body_size;                   // client_max_body_size, enforced after authentication
    ngx_str_t backend_raw;                 // wa_pair_backend as written; data == NULL: unset
    ngx_http_complex_value_t *backend_cv;  // when that value has variables, else NULL
    // A value without variables, split at nginx -t (its address is upstream.upstream):
    ngx_flag_t backend_tls;        // https://
    ngx_str_t backend_address;     // "unix:/run/x.sock", "127.0.0.1:8080", "engines" ...
    ngx_str_t backend_host;        // the Host header
    ngx_str_t backend_own_uri;     // the URI as written, empty when none (inherited as is)
    ngx_str_t backend_uri;         // the request target: backend_own_uri or the protocol's path
    ngx_str_t backend_path;        // backend_uri without its query: nginx's error log shows it
    ngx_str_t backend_log_name;    // NUL-terminated, for the module's error log lines
    ngx_uint_t backend_protocol;   // wa_pair::Protocol
    ngx_array_t *backend_headers;  // of backend_header_t, or NULL
    size_t backend_buffer_size;    // the cap on the answer's head and on its body
    ngx_msec_t connect_timeout;
    ngx_msec_t backend_timeout;
    ngx_flag_t session_start;  // wa_pair_session_start (ngx_wa_pair_session.cpp)
    // nginx's upstream settings of the call: the server or group, timeouts,
    // wa_pair_next_upstream, TLS (wa_pair_ssl_*)
    ngx_http_upstream_conf_t upstream;
#if (NGX_HTTP_SSL)
    ngx_uint_t ssl_protocols;
    ngx_str_t ssl_trusted_certificate;
    ngx_uint_t ssl_verify_depth;
#endif
    time_t code_timeout;
    ngx_str_t jwt_secret;  // raw bytes; data == NULL: unset
    ngx_str_t jwt_device_claim;
    time_t jwt_leeway;
    ZoneLocConf zone;                        // the edge policy: wa_pair_zone_use, wa_pair_reuse*, wa_pair_limit
    AuthDirectives *auth;                    // this level's key files, allow-list, requirements, API keys,
                                             // revocations (inherited when NULL)
    const wa_pair::AuthConfig *auth_config;  // a wa_pair location's, built in merge
    JwksUse *jwks;                           // its keys from identity providers, null when none
    EventsLocConf events;                    // wa_pair_events*, wa_pair_status, wa_pair_linked_ttl
};

// wa_pair_backend_header Name value;
struct backend_header_t {
    ngx_str_t name;
    ngx_http_complex_value_t value;
};

// A request's call to the backend (ngx_wa_pair_upstream.cpp), made when it gets that far.
struct BackendCall {
    std::string request;       // the bytes sent: the protocol's request, the operator's headers
    std::string_view sent_id;  // the X-Request-ID sent (the request's own, in its pool), else ""
    wa_pair::ResponseReader answer;
    // A failure nginx's upstream ends with (no connection, time out, an answer the module
    // refuses): answered as nginx's error page, which the error filter turns into this envelope.
    std::optional<wa_pair::PairCode> failure;
    // For the error log: no query string, no header values; the location's own text for a
    // static wa_pair_backend, else log_name_buf's.
    const char *log_name = "";
    std::string log_name_buf;
    ngx_msec_t start = 0;  // $wa_pair_backend_time
    ngx_msec_t end = 0;
    bool done = false;
    bool goes_on = false;  // a step of a session's exchange: the next call follows (not counted)

    explicit BackendCall(size_t max_answer) noexcept : answer(max_answer) {}
};

// Per request. C++ members: constructed in the request pool, destroyed by a pool cleanup.
struct RequestCtx {
    ngx_http_request_t *r = nullptr;
    bool responded = false;     // our envelope was sent (the error filter leaves it alone)
    bool reading_body = false;  // the body filter counts bytes while set
    off_t body_limit = 0;
    off_t body_bytes = 0;
    std::string device_id;
    std::string_view auth_method;  // "jwt" or "api_key" once authenticated
    std::string api_key_id;        // the token's claims forwarded to the backend ("" absent)
    std::string token_version;
    std::string phone;          // digits; logged only masked
    bool replace_body = false;  // an nginx error page is being replaced by error_page
    bool error_page_sent = false;
    std::string error_page;
    std::optional<BackendCall> call;
    ZoneRequest zone;                                   // the request's part in the edge policy
    SessionRun session;                                 // its exchange with the engine (wa_pair_session_start)
    wa_pair::Outcome outcome = wa_pair::Outcome::none;  // $wa_pair_outcome
};

// ngx_wa_pair_response.cpp: request context, headers, envelopes
std::string_view view(const ngx_str_t &s);
wa_pair_loc_conf_t *loc_conf(ngx_http_request_t *r);
RequestCtx *get_ctx(ngx_http_request_t *r);
// The request's body as one view: of its only buffer, else of `storage`, where the buffers are
// joined. false when part of it is in a file (the limits keep it in memory).
bool collect_body(ngx_http_request_t *r, std::string &storage, std::string_view &body);

RequestCtx *create_ctx(ngx_http_request_t *r);
// The request's context, made now when no earlier phase made it (the access phase's
// wa_pair_authenticate does); nullptr when the pool is exhausted.
RequestCtx *request_ctx(ngx_http_request_t *r);
bool add_header(ngx_http_request_t *r, std::string_view name, std::string_view value);
std::string_view request_id(ngx_http_request_t *r);
void request_id_worker_init();  // init_process: this worker's own random batch
bool set_envelope_headers(ngx_http_request_t *r, ngx_uint_t status, size_t length);
ngx_buf_t *make_buf(ngx_http_request_t *r, const std::string &body);
ngx_int_t send_envelope(ngx_http_request_t *r, int code, const std::string &body);
// An envelope the core built; none (memory exhausted) is answered 500.
ngx_int_t send_envelope(ngx_http_request_t *r, int code, const std::optional<std::string> &body);
ngx_int_t send_failure(ngx_http_request_t *r, const wa_pair::Failure &f);
ngx_int_t reject(ngx_http_request_t *r, const wa_pair::Failure &f);

// ngx_wa_pair_handler.cpp: the content handler and the backend call
ngx_int_t handler(ngx_http_request_t *r) noexcept;

// ngx_wa_pair_filters.cpp: nginx's own error pages as envelopes, the body size limit
void install_filters() noexcept;

// ngx_wa_pair_backend_conf.cpp: wa_pair_backend*, wa_pair_next_upstream, timeouts
char *backend_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *backend_header_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *protocol_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *next_upstream_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *check_buffer_size(ngx_conf_t *cf, void *post, void *data) noexcept;
void create_backend_conf(wa_pair_loc_conf_t *conf) noexcept;
char *merge_backend_conf(ngx_conf_t *cf, wa_pair_loc_conf_t *prev, wa_pair_loc_conf_t *conf) noexcept;

// ngx_wa_pair_ssl_conf.cpp: wa_pair_ssl_* (proxy_ssl_*'s semantics), the TLS context
#if (NGX_HTTP_SSL)
extern ngx_conf_bitmask_t ssl_protocol_masks[];  // wa_pair_ssl_protocols' values
#endif
void create_ssl_conf(wa_pair_loc_conf_t *conf) noexcept;
char *merge_ssl_conf(ngx_conf_t *cf, wa_pair_loc_conf_t *prev, wa_pair_loc_conf_t *conf) noexcept;
// postconfiguration: warns about locations whose TLS settings differ for one server, whose
// TLS sessions nginx shares between them.
void check_shared_tls_sessions(ngx_conf_t *cf, wa_pair_main_conf_t *mcf) noexcept;

// ngx_wa_pair_upstream.cpp: the backend call on nginx's upstream. Starts it (the upstream
// then finalizes the request) or returns false (nothing started; the caller answers 500).
bool backend_start(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, RequestCtx *ctx) noexcept;
// The same for a later call of the request's exchange (ngx_wa_pair_session.cpp).
bool backend_call(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, RequestCtx *ctx, wa_pair::Step step) noexcept;
// The error log line of a backend call: the protocol, the backend, `what`, the phone masked.
void log_failure(ngx_http_request_t *r, const RequestCtx *ctx, ngx_uint_t level, std::string_view what);

// Every variable of the module, one table (ngx_wa_pair_variables.cpp, docs/variables.md).
ngx_int_t add_variables(ngx_conf_t *cf) noexcept;

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
// wa_pair_jwt_jwks_url URL [refresh=time], wa_pair_jwt_issuer URL [refresh=time]
char *jwks_source_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
// Inherits the auth directives and, for a wa_pair location, builds its AuthConfig (or fails
// when it has no credential source).
char *merge_auth_conf(ngx_conf_t *cf, wa_pair_loc_conf_t *prev, wa_pair_loc_conf_t *conf) noexcept;

// ngx_wa_pair_auth_phase.cpp: authentication, in the content handler or the access phase.
// NGX_DECLINED: authenticated (ctx has the device), go on; anything else: the 401 was sent,
// finalize with it.
ngx_int_t authenticate(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, RequestCtx *ctx);
ngx_int_t install_access_handler(ngx_conf_t *cf) noexcept;  // postconfiguration

}  // namespace ngx_wa_pair
