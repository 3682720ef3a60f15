// The typed view of the server settings in a loaded config.
#include <array>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "config/config.h"

namespace gh::config {
namespace {

namespace json = boost::json;

const json::value* find(const json::object& object, std::initializer_list<std::string_view> path) {
  const json::value* current = nullptr;
  const json::object* scope = &object;
  for (std::string_view key : path) {
    if (!scope) {
      return nullptr;
    }
    current = scope->if_contains(key);
    if (!current) {
      return nullptr;
    }
    scope = current->if_object();
  }
  return current;
}

std::string string_at(const json::object& object, std::initializer_list<std::string_view> path) {
  const json::value* value = find(object, path);
  return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

// Decodes standard base64 with or without padding, skipping whitespace (line breaks in pasted PEM).
std::optional<std::string> decode_base64(std::string_view text) {
  std::array<int, 256> table{};
  table.fill(-1);
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
  }

  std::string decoded;
  unsigned buffer = 0;
  int bits = 0;
  bool padding = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    const int digit = table[static_cast<unsigned char>(c)];
    if (digit < 0 || padding) {
      return std::nullopt;
    }
    buffer = (buffer << 6) | static_cast<unsigned>(digit);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      decoded += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return decoded;
}

// Reads one PEM source ({path} or {base64}). The base64 text wins when both are given.
std::optional<std::string> read_pem(const json::object& source, const std::string& path,
                                    std::vector<Problem>& problems) {
  if (const auto* base64 = source.if_contains("base64"); base64 && base64->is_string() && !base64->as_string().empty()) {
    std::optional<std::string> pem = decode_base64(base64->as_string());
    if (!pem) {
      problems.push_back({path + ".base64", "invalid value (redacted): expected base64 text"});
    }
    return pem;
  }
  if (const auto* file = source.if_contains("path"); file && file->is_string() && !file->as_string().empty()) {
    const std::string name(file->as_string());
    std::ifstream stream(name, std::ios::binary);
    if (!stream) {
      problems.push_back({path + ".path", "cannot read file \"" + name + "\""});
      return std::nullopt;
    }
    std::ostringstream text;
    text << stream.rdbuf();
    return text.str();
  }
  return std::nullopt;
}

std::optional<TlsSettings> read_tls(const json::object& server, const std::string& path,
                                    std::vector<Problem>& problems) {
  const auto* tls = server.if_contains("tls");
  if (!tls || !tls->is_object()) {
    return std::nullopt;
  }
  const auto* cert = tls->as_object().if_contains("cert");
  const auto* key = tls->as_object().if_contains("key");
  const bool has_cert = cert && cert->is_object() && !cert->as_object().empty();
  const bool has_key = key && key->is_object() && !key->as_object().empty();
  if (!has_cert && !has_key) {
    return std::nullopt;
  }
  if (has_cert != has_key) {
    problems.push_back({path + ".tls", std::string("missing ") + (has_cert ? "key" : "cert") +
                                           ": TLS needs both a certificate and a private key"});
    return std::nullopt;
  }
  std::optional<std::string> cert_pem = read_pem(cert->as_object(), path + ".tls.cert", problems);
  std::optional<std::string> key_pem = read_pem(key->as_object(), path + ".tls.key", problems);
  if (!cert_pem || !key_pem) {
    return std::nullopt;
  }
  return TlsSettings{std::move(*cert_pem), std::move(*key_pem)};
}

Duration duration_at(const json::object& server, std::string_view key, const std::string& path,
                     std::vector<Problem>& problems) {
  const std::string text = string_at(server, {"timeout", key});
  std::optional<Duration> duration = parse_duration(text);
  if (!duration) {
    problems.push_back({path + ".timeout." + std::string(key), "invalid duration \"" + text + "\""});
    return Duration{};
  }
  return *duration;
}

ServerSettings read_server(const json::object& document, std::string_view name, std::vector<Problem>& problems) {
  const std::string path = "serve." + std::string(name);
  const json::value* found = find(document, {"serve", name});
  static const json::object kEmpty;
  const json::object& server = found && found->is_object() ? found->as_object() : kEmpty;

  ServerSettings settings;
  settings.host = string_at(server, {"host"});
  if (const auto* port = server.if_contains("port"); port && port->is_int64()) {
    settings.port = static_cast<uint16_t>(port->as_int64());
  }
  settings.read_timeout = duration_at(server, "read", path, problems);
  settings.write_timeout = duration_at(server, "write", path, problems);
  settings.idle_timeout = duration_at(server, "idle", path, problems);
  if (const auto* trust = server.if_contains("trust_forwarded_headers"); trust && trust->is_bool()) {
    settings.trust_forwarded_headers = trust->as_bool();
  }
  settings.tls = read_tls(server, path, problems);
  if (settings.tls) {
    // Starting anyway would serve plain HTTP where the operator asked for HTTPS.
    problems.push_back({path + ".tls", "gatehouse does not terminate TLS on its own listeners yet; remove the "
                                       "key and terminate TLS in front of gatehouse (a load balancer or nginx)"});
  }
  return settings;
}

}  // namespace

Settings to_settings(const boost::json::object& document) {
  std::vector<Problem> problems;
  Settings settings;
  settings.proxy = read_server(document, "proxy", problems);
  settings.api = read_server(document, "api", problems);
  settings.log_level = string_at(document, {"log", "level"});
  settings.log_format = string_at(document, {"log", "format"});
  settings.matching_strategy = string_at(document, {"access_rules", "matching_strategy"});
  if (const auto* repositories = find(document, {"access_rules", "repositories"}); repositories && repositories->is_array()) {
    for (std::size_t i = 0; i < repositories->as_array().size(); ++i) {
      const auto& repository = repositories->as_array()[i];
      if (!repository.is_string()) continue;
      const std::string_view url = repository.as_string();
      // Oathkeeper refuses to start with a repository it cannot fetch; so does gatehouse,
      // instead of serving with no rules.
      if (url.find("://") != std::string_view::npos && !url.starts_with("file://") && !url.starts_with("inline://")) {
        problems.push_back({fmt::format("access_rules.repositories[{}]", i),
                            fmt::format("\"{}\": unsupported scheme; allowed: file://, inline:// "
                                        "(http, https and cloud storage repositories are not built)",
                                        url.substr(0, url.find("://") + 3))});
      }
      settings.repositories.emplace_back(url);
    }
  }
  settings.document = document;
  if (!problems.empty()) {
    throw ConfigError(std::move(problems));
  }
  return settings;
}

}  // namespace gh::config
