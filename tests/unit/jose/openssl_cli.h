// Test helpers that make keys and signatures with the `openssl` command, an implementation
// independent of gatehouse's JOSE code. Keys are converted to JWK by parsing the text dump
// of `openssl pkey -text`, and ECDSA DER signatures are unpacked by hand, so no code under
// test takes part in producing the inputs.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gh::jose::testing {

inline std::string to_base64url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 63];
  return out;
}

inline std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

inline std::string to_hex(std::string_view bytes) {
  std::string out;
  char buffer[3];
  for (unsigned char c : bytes) {
    std::snprintf(buffer, sizeof(buffer), "%02x", c);
    out += buffer;
  }
  return out;
}

// Removes leading zero bytes, or pads with them, to reach `width` (0 keeps the minimum).
inline std::string fit_width(std::string bytes, std::size_t width) {
  while (!bytes.empty() && bytes.front() == '\0' && bytes.size() > width) bytes.erase(0, 1);
  if (bytes.size() < width) bytes.insert(0, width - bytes.size(), '\0');
  return bytes;
}

// A temporary folder where the openssl command reads and writes files.
class OpensslWorkspace {
 public:
  OpensslWorkspace() {
    std::string pattern = (std::filesystem::temp_directory_path() / "gh-jose-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
  }
  ~OpensslWorkspace() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  OpensslWorkspace(const OpensslWorkspace&) = delete;
  OpensslWorkspace& operator=(const OpensslWorkspace&) = delete;

  std::string path(std::string_view name) const { return (dir_ / name).string(); }

  void write(std::string_view name, std::string_view bytes) const {
    std::ofstream out(path(name), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  std::string read(std::string_view name) const {
    std::ifstream in(path(name), std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  // Runs `openssl ARGS` inside the folder; throws when it exits with an error.
  void openssl(const std::string& args) const {
    const std::string command =
        "cd '" + dir_.string() + "' && openssl " + args + " >cmd.out 2>&1";
    if (std::system(command.c_str()) != 0) {
      throw std::runtime_error("openssl " + args + " failed: " + read("cmd.out"));
    }
  }

  // Runs `openssl ARGS` and returns whether it exited with status 0.
  bool openssl_succeeds(const std::string& args) const {
    const std::string command =
        "cd '" + dir_.string() + "' && openssl " + args + " >cmd.out 2>&1";
    return std::system(command.c_str()) == 0;
  }

 private:
  std::filesystem::path dir_;
};

// The labelled hex blocks of `openssl pkey -text -noout`, for example "modulus" or "pub".
struct KeyDump {
  std::vector<std::pair<std::string, std::string>> blocks;  // label → bytes
  std::string public_exponent;                              // bytes, RSA only

  std::string get(std::string_view label) const {
    for (const auto& [name, bytes] : blocks) {
      if (name == label) return bytes;
    }
    throw std::runtime_error("openssl key dump has no block " + std::string(label));
  }
};

inline KeyDump parse_key_dump(const std::string& text) {
  KeyDump dump;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("publicExponent:", 0) == 0) {
      unsigned long value = std::stoul(line.substr(std::string_view("publicExponent:").size()));
      std::string bytes;
      for (; value != 0; value >>= 8) bytes.insert(bytes.begin(), static_cast<char>(value & 0xFF));
      dump.public_exponent = bytes;
    } else if (!line.empty() && line[0] != ' ' && line.back() == ':') {
      dump.blocks.emplace_back(line.substr(0, line.size() - 1), "");
    } else if (!line.empty() && line[0] == ' ' && !dump.blocks.empty()) {
      std::string hex;
      for (char c : line) {
        if (std::isxdigit(static_cast<unsigned char>(c))) hex += c;
      }
      dump.blocks.back().second += from_hex(hex);
    }
  }
  return dump;
}

// A key made by `openssl genpkey`, with its PEM files and its JWK text.
struct CliKey {
  std::string private_pem;  // file name inside the workspace
  std::string public_pem;
  std::string private_jwk;  // JSON
  std::string public_jwk;   // JSON
};

inline std::string members_json(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out = "{";
  for (const auto& [name, value] : members) {
    if (out.size() > 1) out += ",";
    out += "\"" + name + "\":\"" + value + "\"";
  }
  return out + "}";
}

// Generates a key with `openssl genpkey ARGS` and converts it to JWK members.
// `type` is "RSA", "EC" or "ED25519"; `field_bytes` is the EC coordinate size.
inline CliKey make_cli_key(const OpensslWorkspace& ws, const std::string& name,
                           const std::string& genpkey_args, const std::string& type,
                           const std::string& kid, const std::string& crv = "",
                           std::size_t field_bytes = 0) {
  CliKey key{name + ".pem", name + ".pub.pem", "", ""};
  ws.openssl("genpkey " + genpkey_args + " -out " + key.private_pem);
  ws.openssl("pkey -in " + key.private_pem + " -pubout -out " + key.public_pem);
  ws.openssl("pkey -in " + key.private_pem + " -text -noout -out " + name + ".txt");
  const KeyDump dump = parse_key_dump(ws.read(name + ".txt"));

  std::vector<std::pair<std::string, std::string>> pub = {{"kid", kid}};
  std::vector<std::pair<std::string, std::string>> priv;
  auto b64 = [](const std::string& bytes, std::size_t width = 0) {
    return to_base64url(fit_width(bytes, width));
  };
  if (type == "RSA") {
    pub.insert(pub.end(), {{"kty", "RSA"}, {"n", b64(dump.get("modulus"))},
                           {"e", b64(dump.public_exponent)}});
    priv = {{"d", b64(dump.get("privateExponent"))}, {"p", b64(dump.get("prime1"))},
            {"q", b64(dump.get("prime2"))},         {"dp", b64(dump.get("exponent1"))},
            {"dq", b64(dump.get("exponent2"))},     {"qi", b64(dump.get("coefficient"))}};
  } else if (type == "EC") {
    const std::string point = dump.get("pub");  // 0x04 || x || y
    pub.insert(pub.end(), {{"kty", "EC"}, {"crv", crv},
                           {"x", b64(point.substr(1, field_bytes), field_bytes)},
                           {"y", b64(point.substr(1 + field_bytes), field_bytes)}});
    priv = {{"d", b64(dump.get("priv"), field_bytes)}};
  } else {
    // Ed25519 keys are fixed 32-byte strings (RFC 8037), so a leading zero byte, which
    // fit_width drops without a width, is kept.
    pub.insert(pub.end(), {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", b64(dump.get("pub"), 32)}});
    priv = {{"d", b64(dump.get("priv"), 32)}};
  }
  key.public_jwk = members_json(pub);
  pub.insert(pub.end(), priv.begin(), priv.end());
  key.private_jwk = members_json(pub);
  return key;
}

// Reads one DER length; advances `pos`.
inline std::size_t der_length(std::string_view der, std::size_t& pos) {
  std::size_t length = static_cast<unsigned char>(der.at(pos++));
  if (length & 0x80) {
    const std::size_t count = length & 0x7F;
    length = 0;
    for (std::size_t i = 0; i < count; ++i) length = (length << 8) | static_cast<unsigned char>(der.at(pos++));
  }
  return length;
}

// Converts an ECDSA-Sig-Value (SEQUENCE { INTEGER r, INTEGER s }) to JWS R||S.
inline std::string der_signature_to_raw(std::string_view der, std::size_t field_bytes) {
  std::size_t pos = 0;
  if (der.at(pos++) != 0x30) throw std::runtime_error("not a DER sequence");
  der_length(der, pos);
  std::string out;
  for (int i = 0; i < 2; ++i) {
    if (der.at(pos++) != 0x02) throw std::runtime_error("not a DER integer");
    const std::size_t length = der_length(der, pos);
    out += fit_width(std::string(der.substr(pos, length)), field_bytes);
    pos += length;
  }
  return out;
}

// Builds a DER ECDSA-Sig-Value from JWS R||S, for `openssl dgst -verify`.
inline std::string raw_signature_to_der(std::string_view raw) {
  auto integer = [](std::string bytes) {
    while (bytes.size() > 1 && bytes[0] == '\0') bytes.erase(0, 1);
    if (static_cast<unsigned char>(bytes[0]) & 0x80) bytes.insert(0, 1, '\0');
    return std::string("\x02", 1) + static_cast<char>(bytes.size()) + bytes;
  };
  const std::string body = integer(std::string(raw.substr(0, raw.size() / 2))) +
                           integer(std::string(raw.substr(raw.size() / 2)));
  std::string out("\x30", 1);
  if (body.size() >= 0x80) out += '\x81';
  return out + static_cast<char>(body.size()) + body;
}

}  // namespace gh::jose::testing
