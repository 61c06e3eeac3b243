// The authentication directives: JWT key files, the algorithm allow-list, claim requirements,
// API keys and token revocations. Files are read when the configuration is loaded (a reload
// reads them again); every bad file or value fails `nginx -t` naming the directive, the path
// and, for the line-based files, the line. Each wa_pair location gets one AuthConfig, built
// in merge.

#include <algorithm>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "nginx/ngx_wa_pair_caught.hpp"
#include "nginx/ngx_wa_pair_conf.hpp"
#include "nginx/ngx_wa_pair_jwks.hpp"
#include "auth/auth.hpp"
#include "jose/jwks.hpp"

namespace ngx_wa_pair {

// What the auth directives of one level (http, server, location) gave. Unset fields are
// inherited in merge_auth_conf; a level without any of these directives shares its parent's.
struct AuthDirectives {
    bool keys_set = false;  // wa_pair_jwt_key_file at this level: replaces the inherited keys
    wa_pair::KeySet keys;
    bool algorithms_set = false;
    wa_pair::AlgSet algorithms;
    std::vector<wa_pair::ClaimRequirement> required;  // after merge: the effective list
    std::shared_ptr<const wa_pair::ApiKeys> api_keys;
    std::shared_ptr<const wa_pair::Revocations> revocations;
    bool jwks_set = false;             // wa_pair_jwt_jwks_url or _issuer here: replaces the inherited ones
    std::vector<size_t> jwks;          // JwksMain::sources
    std::vector<std::string> issuers;  // a token's iss must be one of them
};

namespace {

constexpr size_t kMaxKeyFile = 1024 * 1024;
constexpr size_t kMaxListFile = 16 * 1024 * 1024;

ngx_str_t *args(ngx_conf_t *cf) {
    return static_cast<ngx_str_t *>(cf->args->elts);
}

template <class T>
void delete_object(void *data) noexcept {
    delete static_cast<T *>(data);
}

// A C++ object owned by the configuration's pool.
template <class T>
T *pool_new(ngx_conf_t *cf) {
    ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == nullptr) {
        return nullptr;
    }
    T *object = new (std::nothrow) T();
    if (object == nullptr) {
        return nullptr;
    }
    cln->handler = delete_object<T>;
    cln->data = object;
    return object;
}

AuthDirectives *directives(ngx_conf_t *cf, void *conf) {
    auto *lcf = static_cast<wa_pair_loc_conf_t *>(conf);
    if (lcf->auth == nullptr) {
        lcf->auth = pool_new<AuthDirectives>(cf);
    }
    return lcf->auth;
}

// Reads a whole file named by the directive's argument (relative to the configuration
// prefix). On failure logs why, naming the directive and the path.
bool read_file(ngx_conf_t *cf, ngx_command_t *cmd, size_t max, ngx_str_t &path, std::string &out) {
    path = args(cf)[1];
    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return false;
    }
    ngx_fd_t fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno, "\"%V\" cannot open \"%V\"", &cmd->name, &path);
        return false;
    }
    ngx_file_info_t fi;
    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR || !ngx_is_file(&fi)) {
        ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" \"%V\" is not a regular file", &cmd->name, &path);
        return false;
    }
    out.clear();
    char buf[16384];
    for (;;) {
        ssize_t n = ngx_read_fd(fd, buf, sizeof(buf));
        if (n < 0) {
            ngx_err_t err = ngx_errno;
            ngx_close_file(fd);
            ngx_conf_log_error(NGX_LOG_EMERG, cf, err, "\"%V\" cannot read \"%V\"", &cmd->name, &path);
            return false;
        }
        if (n == 0) {
            break;
        }
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > max) {
            ngx_close_file(fd);
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" file \"%V\" is too large (over %uz bytes)", &cmd->name,
                               &path, max);
            return false;
        }
    }
    ngx_close_file(fd);
    return true;
}

// The file's bytes may be secret (an oct JWK): wiped before they are freed.
struct WipedString {
    std::string text;
    ~WipedString() { ngx_explicit_memzero(text.data(), text.size()); }
};

// go-whatsapp-multi-session-rest-api (wa_pair_backend_protocol origin) is sent the client's own
// token and verifies it again: only HMAC JWTs signed with its own secret (docs/engines.md). A
// location that accepts other credentials would pass clients origin then refuses.
bool origin_can_verify(ngx_conf_t *cf, const wa_pair_loc_conf_t *conf) {
    if (static_cast<wa_pair::Protocol>(conf->backend_protocol) != wa_pair::Protocol::origin) {
        return true;
    }
    const AuthDirectives *auth = conf->auth;
    if (auth != nullptr && auth->api_keys) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"wa_pair_backend_protocol origin\" cannot be used with "
                           "\"wa_pair_api_keys_file\": origin verifies the client's token itself "
                           "and accepts only HMAC JWTs signed with its own secret");
        return false;
    }
    if (auth != nullptr && auth->jwks_set && !auth->jwks.empty()) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"wa_pair_backend_protocol origin\" cannot be used with keys from "
                           "\"wa_pair_jwt_jwks_url\" or \"wa_pair_jwt_issuer\": origin verifies the "
                           "client's token itself and accepts only HMAC JWTs signed with its own secret");
        return false;
    }
    if (auth != nullptr && auth->keys_set) {
        for (const wa_pair::Key &key : auth->keys) {
            if (key.type != wa_pair::KeyType::oct) {
                const std::string type(wa_pair::key_type_name(key.type));
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"wa_pair_backend_protocol origin\" cannot be used with the %s "
                                   "keys of \"wa_pair_jwt_key_file\": origin verifies the client's "
                                   "token itself and accepts only HMAC JWTs signed with its own secret",
                                   type.c_str());
                return false;
            }
        }
    }
    return true;
}

}  // namespace

// wa_pair_jwt_key_file PATH; (repeatable) a PEM public key or a JWK Set
char *key_file_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    try {
        AuthDirectives *auth = directives(cf, conf);
        if (auth == nullptr) {
            return WA_PAIR_CONF_ERROR;
        }
        ngx_str_t path;
        WipedString file;
        if (!read_file(cf, cmd, kMaxKeyFile, path, file.text)) {
            return WA_PAIR_CONF_ERROR;
        }
        wa_pair::KeyFile parsed = wa_pair::parse_key_file(file.text);
        for (const std::string &warning : parsed.warnings) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0, "\"%V\" file \"%V\": %s", &cmd->name, &path, warning.c_str());
        }
        if (!parsed.error.empty()) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" file \"%V\": %s", &cmd->name, &path, parsed.error.c_str());
            return WA_PAIR_CONF_ERROR;
        }
        auth->keys_set = true;
        for (wa_pair::Key &key : parsed.keys) {
            auth->keys.push_back(std::move(key));
        }
        return NGX_CONF_OK;
    } catch (...) {
        conf_log_caught(cf, cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
}

// wa_pair_jwt_algorithms ALG ...;
char *algorithms_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    AuthDirectives *auth = directives(cf, conf);
    if (auth == nullptr) {
        return WA_PAIR_CONF_ERROR;
    }
    if (auth->algorithms_set) {
        return const_cast<char *>("is duplicate");
    }
    ngx_str_t *value = args(cf);
    for (ngx_uint_t i = 1; i < cf->args->nelts; i++) {
        std::optional<wa_pair::Alg> alg = wa_pair::alg_from_name(view(value[i]));
        if (alg) {
            auth->algorithms.add(*alg);
            continue;
        }
        if (value[i].len == 4 && ngx_strncasecmp(value[i].data, (u_char *)"none", 4) == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": \"none\" is never allowed", &cmd->name);
        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\" in \"%V\": not one of HS256 HS384 HS512 RS256 "
                               "RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA",
                               &value[i], &cmd->name);
        }
        return WA_PAIR_CONF_ERROR;
    }
    auth->algorithms_set = true;
    return NGX_CONF_OK;
}

// wa_pair_jwt_require CLAIM[=VALUE] ...; (repeatable)
char *require_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    try {
        AuthDirectives *auth = directives(cf, conf);
        if (auth == nullptr) {
            return WA_PAIR_CONF_ERROR;
        }
        ngx_str_t *value = args(cf);
        for (ngx_uint_t i = 1; i < cf->args->nelts; i++) {
            std::string error = wa_pair::add_requirement(view(value[i]), auth->required);
            if (!error.empty()) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"%V\": %s", &value[i], &cmd->name,
                                   error.c_str());
                return WA_PAIR_CONF_ERROR;
            }
        }
        return NGX_CONF_OK;
    } catch (...) {
        conf_log_caught(cf, cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
}

// wa_pair_api_keys_file PATH;
char *api_keys_file_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    try {
        AuthDirectives *auth = directives(cf, conf);
        if (auth == nullptr) {
            return WA_PAIR_CONF_ERROR;
        }
        if (auth->api_keys) {
            return const_cast<char *>("is duplicate");
        }
        ngx_str_t path;
        std::string text;
        if (!read_file(cf, cmd, kMaxListFile, path, text)) {
            return WA_PAIR_CONF_ERROR;
        }
        auto parsed = std::make_shared<wa_pair::ApiKeysFile>(wa_pair::parse_api_keys_file(text));
        if (!parsed->error.empty()) {
            // the core's message never repeats a line's content (it may be a plain key)
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" file \"%V\", %s", &cmd->name, &path,
                               parsed->error.c_str());
            return WA_PAIR_CONF_ERROR;
        }
        auth->api_keys = std::shared_ptr<const wa_pair::ApiKeys>(parsed, &parsed->keys);
        return NGX_CONF_OK;
    } catch (...) {
        conf_log_caught(cf, cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
}

// wa_pair_jwt_revocation_file PATH;
char *revocation_file_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    try {
        AuthDirectives *auth = directives(cf, conf);
        if (auth == nullptr) {
            return WA_PAIR_CONF_ERROR;
        }
        if (auth->revocations) {
            return const_cast<char *>("is duplicate");
        }
        ngx_str_t path;
        std::string text;
        if (!read_file(cf, cmd, kMaxListFile, path, text)) {
            return WA_PAIR_CONF_ERROR;
        }
        auto parsed = std::make_shared<wa_pair::RevocationFile>(wa_pair::parse_revocation_file(text));
        if (!parsed->error.empty()) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" file \"%V\", %s", &cmd->name, &path,
                               parsed->error.c_str());
            return WA_PAIR_CONF_ERROR;
        }
        auth->revocations = std::shared_ptr<const wa_pair::Revocations>(parsed, &parsed->list);
        return NGX_CONF_OK;
    } catch (...) {
        conf_log_caught(cf, cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
}

// wa_pair_jwt_jwks_url URL [refresh=time]; wa_pair_jwt_issuer URL [refresh=time]; (repeatable)
char *jwks_source_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    try {
        AuthDirectives *auth = directives(cf, conf);
        if (auth == nullptr) {
            return WA_PAIR_CONF_ERROR;
        }
        const bool issuer = cmd->name.len == sizeof("wa_pair_jwt_issuer") - 1;
        ngx_str_t *value = args(cf);
        ngx_str_t url = value[1];
        std::string_view text = view(url);
        wa_pair::FetchUrl checked = wa_pair::check_fetch_url(text);
        if (checked.error.empty() && text.size() >= kJwksMaxUrl) {
            checked.error = "longer than " + std::to_string(kJwksMaxUrl - 1) + " bytes";
        }
        if (checked.error.empty() && issuer && text.find('?') != std::string_view::npos) {
            checked.error = "an issuer has no query (OpenID Connect Discovery 1.0, section 2)";
        }
        if (!checked.error.empty()) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid URL \"%V\" in \"%V\": %s", &url, &cmd->name,
                               checked.error.c_str());
            return WA_PAIR_CONF_ERROR;
        }
        time_t refresh = kJwksDefaultRefresh;
        for (ngx_uint_t i = 2; i < cf->args->nelts; i++) {
            ngx_str_t arg = value[i];
            if (arg.len > 8 && ngx_strncmp(arg.data, "refresh=", 8) == 0) {
                ngx_str_t time = {arg.len - 8, arg.data + 8};
                time_t seconds = ngx_parse_time(&time, 1);
                if (seconds != static_cast<time_t>(NGX_ERROR) && seconds >= 60 && seconds <= 86400) {
                    refresh = seconds;
                    continue;
                }
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid value \"%V\" in \"%V\": refresh= takes a time from 1m to 1d", &arg,
                                   &cmd->name);
            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\" in \"%V\"", &arg, &cmd->name);
            }
            return WA_PAIR_CONF_ERROR;
        }
        ngx_int_t index = jwks_add_source(cf, url, issuer, refresh);
        if (index < 0) {
            return WA_PAIR_CONF_ERROR;
        }
        auth->jwks_set = true;
        if (std::find(auth->jwks.begin(), auth->jwks.end(), static_cast<size_t>(index)) == auth->jwks.end()) {
            auth->jwks.push_back(static_cast<size_t>(index));
        }
        if (issuer) {
            auth->issuers.emplace_back(text);
        }
        return NGX_CONF_OK;
    } catch (...) {
        conf_log_caught(cf, cmd->name);
        return WA_PAIR_CONF_ERROR;
    }
}

char *merge_auth_conf(ngx_conf_t *cf, wa_pair_loc_conf_t *prev, wa_pair_loc_conf_t *conf) noexcept {
    try {
        if (conf->auth == nullptr) {
            conf->auth = prev->auth;
        } else if (prev->auth != nullptr) {
            AuthDirectives &own = *conf->auth;
            const AuthDirectives &parent = *prev->auth;
            if (!own.keys_set) {
                own.keys_set = parent.keys_set;
                own.keys = parent.keys;
            }
            if (!own.algorithms_set) {
                own.algorithms_set = parent.algorithms_set;
                own.algorithms = parent.algorithms;
            }
            own.required = wa_pair::merge_requirements(parent.required, own.required);
            if (!own.api_keys) {
                own.api_keys = parent.api_keys;
            }
            if (!own.revocations) {
                own.revocations = parent.revocations;
            }
            if (!own.jwks_set) {
                own.jwks_set = parent.jwks_set;
                own.jwks = parent.jwks;
                own.issuers = parent.issuers;
            }
        }
        if (!conf->enable && !conf->authenticate && !conf->events.status) {
            // An "if" block inside a wa_pair location runs the handler with its own conf.
            conf->auth_config = prev->auth_config;
            conf->jwks = prev->jwks;
            return NGX_CONF_OK;
        }

        const AuthDirectives *auth = conf->auth;
        const bool has_keys = auth != nullptr && auth->keys_set;
        const bool has_api_keys = auth != nullptr && auth->api_keys;
        const bool has_jwks = auth != nullptr && !auth->jwks.empty();
        const bool has_source = conf->jwt_secret.data != nullptr || has_keys || has_api_keys || has_jwks;
        auto *clcf =
            static_cast<ngx_http_core_loc_conf_t *>(ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
        if (!has_source && !conf->enable && clcf != nullptr && clcf->name.len == 0) {
            // A server's own level (no location name): wa_pair_authenticate there is what its
            // locations inherit, and each location is checked when it is merged. A request no
            // location matches finds no AuthConfig here: a 500, logged (fail closed).
            conf->auth_config = nullptr;
            return NGX_CONF_OK;
        }
        if (!has_source) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%s\" requires a credential source: \"wa_pair_jwt_secret_file\", "
                               "\"wa_pair_jwt_key_file\", \"wa_pair_jwt_jwks_url\", "
                               "\"wa_pair_jwt_issuer\" or \"wa_pair_api_keys_file\"",
                               conf->enable          ? "wa_pair"
                               : conf->events.status ? "wa_pair_status"
                                                     : "wa_pair_authenticate");
            return WA_PAIR_CONF_ERROR;
        }

        if (conf->enable && !origin_can_verify(cf, conf)) {
            return WA_PAIR_CONF_ERROR;
        }

        auto *config = pool_new<wa_pair::AuthConfig>(cf);
        if (config == nullptr) {
            return WA_PAIR_CONF_ERROR;
        }
        wa_pair::JwtConfig &jwt = config->jwt;
        if (conf->jwt_secret.data != nullptr) {
            jwt.keys.push_back(wa_pair::hmac_key(view(conf->jwt_secret)));
        }
        if (has_keys) {
            jwt.keys.insert(jwt.keys.end(), auth->keys.begin(), auth->keys.end());
        }
        const wa_pair::AlgSet fitting = wa_pair::algorithms_for(jwt.keys);
        if (auth != nullptr && auth->algorithms_set) {
            jwt.algorithms = auth->algorithms;
            for (int i = 0; i < wa_pair::kAlgCount; i++) {
                auto alg = static_cast<wa_pair::Alg>(i);
                if (jwt.algorithms.contains(alg) && !fitting.contains(alg) && !has_jwks) {
                    std::string name(wa_pair::alg_name(alg));
                    ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                                       "\"wa_pair_jwt_algorithms\" allows %s, but no configured key fits it",
                                       name.c_str());
                }
            }
        } else if (!has_jwks) {
            jwt.algorithms = fitting;
        }  // else empty: what the configured keys and the fetched ones fit (verify_jwt)
        if (auth != nullptr) {
            jwt.required = auth->required;
            if (!auth->issuers.empty()) {
                jwt.required.push_back({"iss", auth->issuers});
            }
            config->api_keys = auth->api_keys;
            config->revocations = auth->revocations;
        }
        jwt.device_claim.assign(view(conf->jwt_device_claim));
        jwt.leeway_seconds = static_cast<long>(conf->jwt_leeway);
        config->jwt_cache = std::make_shared<wa_pair::JwtCache>();  // this location's own
        conf->auth_config = config;
        conf->jwks = nullptr;
        if (has_jwks) {
            conf->jwks = pool_new<JwksUse>(cf);
            if (conf->jwks == nullptr) {
                return WA_PAIR_CONF_ERROR;
            }
            conf->jwks->sources = auth->jwks;
            conf->jwks->cache = config->jwt_cache;
        }
        return NGX_CONF_OK;
    } catch (...) {
        static const ngx_str_t name = ngx_string("wa_pair_authenticate");
        conf_log_caught(cf, name);
        return WA_PAIR_CONF_ERROR;
    }
}

}  // namespace ngx_wa_pair
