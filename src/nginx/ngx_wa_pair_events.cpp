// `wa_pair_events;`: an engine's webhooks, authenticated by the engine's own
// signature (wa_pair_events_secret_file: an HMAC of the raw body, compared in constant time) or
// a shared header (wa_pair_events_header), read strictly (events.hpp) and applied to the zone
// of the pairing location (wa_pair_events_zone). Answers: 204 for an event taken (acted on or
// not), 400 for a malformed body, 401 for a bad or missing signature or header, 405, 413.
// Events change only devices the zone holds: they never create entries.

#include <memory>
#include <new>
#include <string>

#include "nginx/ngx_wa_pair_caught.hpp"
#include "nginx/ngx_wa_pair_conf.hpp"
#include "backend/events.hpp"

namespace ngx_wa_pair {

struct EventsKey {
    std::shared_ptr<const wa_pair::HmacKey> key;
};

namespace {

constexpr off_t kMaxSecretFile = 65536;
constexpr time_t kMaxLinkedTtl = 30 * 86400;

EventsLocConf &events_conf(void *conf) {
    return static_cast<wa_pair_loc_conf_t *>(conf)->events;
}

ngx_str_t *args(ngx_conf_t *cf) {
    return static_cast<ngx_str_t *>(cf->args->elts);
}

void delete_key(void *data) noexcept {
    delete static_cast<EventsKey *>(data);
}

char *check_linked_ttl(ngx_conf_t *cf, void *post, void *data) noexcept {
    (void)cf;
    (void)post;
    time_t v = *static_cast<time_t *>(data);
    return (v < 1 || v > kMaxLinkedTtl) ? const_cast<char *>("must be between 1s and 30d") : NGX_CONF_OK;
}

// A header name nginx would parse: RFC 9110 token characters.
bool is_token(const ngx_str_t &s) {
    static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
    if (s.len == 0) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        u_char c = s.data[i];
        if (!isalnum(c) && kSpecials.find(static_cast<char>(c)) == std::string_view::npos) {
            return false;
        }
    }
    return true;
}

// ---------------------------------------------------------------- the request

// The values of header `name` (case-insensitive): how many, and the first.
size_t find_header(ngx_http_request_t *r, std::string_view name, std::string_view &value) {
    size_t found = 0;
    ngx_list_part_t *part = &r->headers_in.headers.part;
    auto *h = static_cast<ngx_table_elt_t *>(part->elts);
    for (ngx_uint_t i = 0;; i++) {
        if (i >= part->nelts) {
            if (part->next == nullptr) {
                break;
            }
            part = part->next;
            h = static_cast<ngx_table_elt_t *>(part->elts);
            i = 0;
        }
        if (h[i].key.len == name.size() &&
            ngx_strncasecmp(h[i].key.data, reinterpret_cast<u_char *>(const_cast<char *>(name.data())), name.size()) ==
                0) {
            if (found++ == 0) {
                value = view(h[i].value);
            }
        }
    }
    return found;
}

ngx_int_t refuse(ngx_http_request_t *r, const char *why) {
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "wa_pair_events: refused an event: %s", why);
    return send_failure(r, {NGX_HTTP_UNAUTHORIZED, "Invalid or missing event signature"});
}

ngx_int_t no_content(ngx_http_request_t *r) {
    if (RequestCtx *ctx = get_ctx(r)) {
        ctx->responded = true;
    }
    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;
    return ngx_http_send_header(r);
}

const char *outcome_text(EventOutcome o) {
    switch (o) {
    case EventOutcome::changed:
        return "applied";
    case EventOutcome::unchanged:
        return "nothing to change";
    case EventOutcome::stale:
        return "stale (older than the newest event applied), ignored";
    default:
        return "no such device in the zone, ignored";
    }
}

const char *effect_text(wa_pair::DeviceEvent e) {
    switch (e) {
    case wa_pair::DeviceEvent::linked:
        return "linked";
    case wa_pair::DeviceEvent::pair_failed:
        return "pairing failed";
    case wa_pair::DeviceEvent::logged_out:
        return "logged out";
    case wa_pair::DeviceEvent::not_linked:
        return "not linked";
    case wa_pair::DeviceEvent::new_code:
        return "new code";
    default:
        return "none";
    }
}

ngx_int_t take_event(ngx_http_request_t *r, const EventsLocConf &ec, std::string_view body) {
    const auto protocol = static_cast<wa_pair::Protocol>(ec.protocol);
    if (ec.key != nullptr) {
        const wa_pair::SignatureScheme scheme = wa_pair::signature_scheme(protocol);
        std::string_view signature;
        const size_t n = find_header(r, scheme.header, signature);
        if (n != 1) {
            return refuse(r, n == 0 ? "no signature header" : "more than one signature header");
        }
        if (!wa_pair::verify_signature(scheme, *ec.key->key, signature, body)) {
            return refuse(r, "the signature does not match the body (check wa_pair_events_secret_file)");
        }
    }
    std::string_view content_type;
    if (r->headers_in.content_type != nullptr) {
        content_type = view(r->headers_in.content_type->value);
    }
    const wa_pair::EventParse parsed = wa_pair::parse_event(protocol, content_type, body);
    if (parsed.status != 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "wa_pair_events: malformed %s event: %s",
                      std::string(wa_pair::protocol_name(protocol)).c_str(), parsed.error.c_str());
        if (parsed.status == 400) {
            return send_failure(r, {NGX_HTTP_BAD_REQUEST, parsed.error});
        }
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    const wa_pair::PairingEvent &e = parsed.event;
    if (e.effect == wa_pair::DeviceEvent::none) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "wa_pair_events: \"%s\" not acted on",
                       std::string(e.name).c_str());
        return no_content(r);
    }
    wa_pair::EventChange change;
    change.event = e.effect;
    ngx_memcpy(change.code, e.code.data(), std::min(e.code.size(), wa_pair::kPairCodeSize - 1));
    change.code_ms = static_cast<std::int64_t>(e.code_seconds) * 1000;
    change.linked_ms = static_cast<std::int64_t>(ec.linked_ttl) * 1000;
    change.at_ms = e.at_ms;
    const EventOutcome o = zone_apply_event(ec.shm_zone, e.device, change, static_cast<std::int64_t>(ngx_current_msec));
    if (o == EventOutcome::changed) {
        status_wake_local();
    }
    const ngx_uint_t level = o == EventOutcome::changed ? NGX_LOG_INFO : NGX_LOG_DEBUG;
    if (r->connection->log->log_level >= level) {
        ngx_log_error(level, r->connection->log, 0, "wa_pair_events: \"%s\" (%s) for device \"%s\": %s",
                      std::string(e.name).c_str(), effect_text(e.effect), e.device.c_str(), outcome_text(o));
    }
    return no_content(r);
}

void body_handler(ngx_http_request_t *r) noexcept {
    ngx_int_t rc;
    try {
        RequestCtx *ctx = get_ctx(r);
        ctx->reading_body = false;
        std::string storage;
        std::string_view body;
        if (!collect_body(r, storage, body)) {
            rc = send_failure(r, {NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "Event body is too large"});
        } else {
            rc = take_event(r, loc_conf(r)->events, body);
        }
    } catch (...) {
        log_caught(r->connection->log, "wa_pair_events body");
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_http_finalize_request(r, rc);
}

ngx_int_t events_handler(ngx_http_request_t *r) noexcept {
    try {
        wa_pair_loc_conf_t *lcf = loc_conf(r);
        const EventsLocConf &ec = lcf->events;
        RequestCtx *ctx = request_ctx(r);
        if (ctx == nullptr) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        // Bounded, and never written to disk: the smaller of the two body sizes.
        auto *clcf = static_cast<ngx_http_core_loc_conf_t *>(ngx_http_get_module_loc_conf(r, ngx_http_core_module));
        ctx->body_limit = static_cast<off_t>(clcf->client_body_buffer_size);
        if (clcf->client_max_body_size > 0 && clcf->client_max_body_size < ctx->body_limit) {
            ctx->body_limit = clcf->client_max_body_size;
        }
        if (!(r->method & NGX_HTTP_POST)) {
            if (!add_header(r, "Allow", "POST")) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
            return reject(r, {NGX_HTTP_NOT_ALLOWED, "Only POST is allowed"});
        }
        if (ec.header_name.data != nullptr) {  // before the body: a stranger's is not even read
            std::string_view presented;
            const size_t n = find_header(r, view(ec.header_name), presented);
            if (n != 1 || !wa_pair::secret_equals(view(ec.header_value), presented)) {
                ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                              "wa_pair_events: refused an event: the header \"%V\" is %s", &ec.header_name,
                              n == 0  ? "missing"
                              : n > 1 ? "repeated"
                                      : "wrong");
                return reject(r, {NGX_HTTP_UNAUTHORIZED, "Invalid or missing event signature"});
            }
        }
        if (r->headers_in.content_length_n > ctx->body_limit) {
            return reject(r, {NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "Event body is too large"});
        }
        ctx->reading_body = true;
        r->request_body_in_single_buf = 1;
        ngx_int_t rc = ngx_http_read_client_request_body(r, body_handler);
        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }
        return NGX_DONE;
    } catch (...) {
        log_caught(r->connection->log, "wa_pair_events handler");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}

}  // namespace

ngx_conf_post_t linked_ttl_post = {check_linked_ttl};

// ---------------------------------------------------------------- directives

char *events_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    (void)cmd;
    EventsLocConf &ec = events_conf(conf);
    if (ec.enable) {
        return const_cast<char *>("is duplicate");
    }
    ec.enable = 1;
    auto *clcf = static_cast<ngx_http_core_loc_conf_t *>(ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    clcf->handler = events_handler;
    return NGX_CONF_OK;
}

char *events_protocol_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    EventsLocConf &ec = events_conf(conf);
    if (ec.protocol != NGX_CONF_UNSET_UINT) {
        return const_cast<char *>("is duplicate");
    }
    const std::optional<wa_pair::Protocol> protocol = wa_pair::parse_protocol(view(args(cf)[1]));
    if (!protocol) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\" (native, origin, gowa, waha, wuzapi or evolution)",
                           &args(cf)[1], &cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
    ec.protocol = static_cast<ngx_uint_t>(*protocol);
    return NGX_CONF_OK;
}

// Read when the configuration is loaded; only the path ever appears in a message, and the
// bytes are wiped once the key's HMAC states are prepared.
char *events_secret_file_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    EventsLocConf &ec = events_conf(conf);
    if (ec.secret_path.data != nullptr) {
        return const_cast<char *>("is duplicate");
    }
    ngx_str_t path = args(cf)[1];
    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return WA_PAIR_CONF_ERROR;
    }
    ngx_fd_t fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno, "\"%V\" cannot open \"%V\"", &cmd->name, &path);
        return WA_PAIR_CONF_ERROR;
    }
    auto *buf = static_cast<u_char *>(ngx_pnalloc(cf->temp_pool, kMaxSecretFile + 1));
    ssize_t n = buf ? ngx_read_fd(fd, buf, kMaxSecretFile + 1) : -1;
    ngx_err_t err = ngx_errno;
    ngx_close_file(fd);
    if (n < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, err, "\"%V\" cannot read \"%V\"", &cmd->name, &path);
        return WA_PAIR_CONF_ERROR;
    }
    size_t len = static_cast<size_t>(n);
    char *error = nullptr;
    if (n > kMaxSecretFile) {
        error = const_cast<char *>("is too large");
    } else {
        if (len > 0 && buf[len - 1] == '\n') {
            len--;
            if (len > 0 && buf[len - 1] == '\r') {
                len--;
            }
        }
        if (len == 0) {
            error = const_cast<char *>("is empty");
        }
    }
    std::shared_ptr<const wa_pair::HmacKey> key;
    if (error == nullptr) {
        key = wa_pair::HmacKey::prepare({reinterpret_cast<const char *>(buf), len});
    }
    ngx_explicit_memzero(buf, static_cast<size_t>(n > 0 ? n : 0));
    if (error != nullptr) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" file \"%V\" %s", &cmd->name, &path, error);
        return WA_PAIR_CONF_ERROR;
    }
    if (!key) {
        return WA_PAIR_CONF_ERROR;
    }
    ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(cf->pool, 0);
    auto *holder = cln ? new (std::nothrow) EventsKey{std::move(key)} : nullptr;
    if (holder == nullptr) {
        return WA_PAIR_CONF_ERROR;
    }
    cln->handler = delete_key;
    cln->data = holder;
    ec.key = holder;
    ec.secret_path = path;
    return NGX_CONF_OK;
}

char *events_header_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    EventsLocConf &ec = events_conf(conf);
    if (ec.header_name.data != nullptr) {
        return const_cast<char *>("is duplicate");
    }
    ngx_str_t name = args(cf)[1];
    ngx_str_t value = args(cf)[2];
    if (!is_token(name)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid header name \"%V\" in \"%V\"", &name, &cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
    if (value.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" needs a value that is not empty", &cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
    for (size_t i = 0; i < value.len; i++) {
        if (value.data[i] < 0x20 || value.data[i] == 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "the value of \"%V\" has a control character", &cmd->name);
            return WA_PAIR_CONF_ERROR;
        }
    }
    ec.header_name = name;
    ec.header_value = value;
    return NGX_CONF_OK;
}

char *events_zone_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    (void)cmd;
    EventsLocConf &ec = events_conf(conf);
    if (ec.shm_zone != NGX_CONF_UNSET_PTR) {
        return const_cast<char *>("is duplicate");
    }
    // The zone may be declared further down: it is checked when the location is merged.
    ec.shm_zone = ngx_shared_memory_add(cf, &args(cf)[1], 0, &ngx_http_wa_pair_module);
    return ec.shm_zone == nullptr ? WA_PAIR_CONF_ERROR : NGX_CONF_OK;
}

void events_create_loc_conf(EventsLocConf *conf) noexcept {
    // pcalloc: enable, status, key, secret_path, header_* are zero
    conf->protocol = NGX_CONF_UNSET_UINT;
    conf->shm_zone = static_cast<ngx_shm_zone_t *>(NGX_CONF_UNSET_PTR);
    conf->linked_ttl = NGX_CONF_UNSET;
}

char *events_merge_loc_conf(ngx_conf_t *cf, EventsLocConf *prev, EventsLocConf *conf,
                            ngx_shm_zone_t *zone_use) noexcept {
    ngx_conf_merge_uint_value(conf->protocol, prev->protocol, static_cast<ngx_uint_t>(wa_pair::Protocol::native));
    if (conf->secret_path.data == nullptr) {
        conf->secret_path = prev->secret_path;
        conf->key = prev->key;
    }
    if (conf->header_name.data == nullptr) {
        conf->header_name = prev->header_name;
        conf->header_value = prev->header_value;
    }
    ngx_conf_merge_ptr_value(conf->shm_zone, prev->shm_zone, nullptr);
    ngx_conf_merge_sec_value(conf->linked_ttl, prev->linked_ttl, 86400);

    if (conf->enable && conf->status) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"wa_pair_events\" and \"wa_pair_status\" need a location each");
        return WA_PAIR_CONF_ERROR;
    }
    if (conf->enable) {
        if (conf->shm_zone == nullptr) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"wa_pair_events\" requires \"wa_pair_events_zone\"");
            return WA_PAIR_CONF_ERROR;
        }
        if (!is_policy_zone(conf->shm_zone)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"wa_pair_events_zone\" names an unknown zone \"%V\": declare it with \"wa_pair_zone\"",
                               &conf->shm_zone->shm.name);
            return WA_PAIR_CONF_ERROR;
        }
        const auto protocol = static_cast<wa_pair::Protocol>(conf->protocol);
        if (conf->key == nullptr && conf->header_name.data == nullptr) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"wa_pair_events\" requires \"wa_pair_events_secret_file\" (the engine's "
                               "webhook signature) or \"wa_pair_events_header\"");
            return WA_PAIR_CONF_ERROR;
        }
        if (conf->key != nullptr && wa_pair::signature_scheme(protocol).encoding == wa_pair::SignatureEncoding::none) {
            std::string name(wa_pair::protocol_name(protocol));
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"wa_pair_events_secret_file\": %s does not sign its webhooks; authenticate "
                               "them with \"wa_pair_events_header\" (a header the engine is configured to send)",
                               name.c_str());
            return WA_PAIR_CONF_ERROR;
        }
    }
    if (conf->status && (zone_use == nullptr || !is_policy_zone(zone_use))) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"wa_pair_status\" requires \"wa_pair_zone_use\"");
        return WA_PAIR_CONF_ERROR;
    }
    return NGX_CONF_OK;
}

}  // namespace ngx_wa_pair
