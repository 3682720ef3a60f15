// Base64url without padding (RFC 4648 §5, as RFC 7515 §2 uses it for every JWS segment).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace gh::jose {

// Encodes bytes as base64url with no '=' padding.
std::string base64url_encode(std::span<const unsigned char> bytes);
std::string base64url_encode(std::string_view bytes);

// Decodes strict base64url: only the characters A-Z a-z 0-9 '-' '_', no padding, no
// whitespace, and the unused low bits of the last character must be zero, so every byte
// string has exactly one accepted encoding. Returns nullopt for anything else.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace gh::jose
