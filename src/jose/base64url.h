// Base64 in both RFC 4648 alphabets: base64url without padding (§5, as RFC 7515 §2 uses it for
// every JWS segment) and standard base64 (§4, as HTTP Basic credentials and PHC hash strings
// use it). Every other module decodes base64 through these functions.
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

enum class Padding { with, without };

// Encodes bytes in the standard alphabet (A-Z a-z 0-9 '+' '/'), padded to a multiple of four
// characters with '=' unless `padding` is Padding::without.
std::string base64_encode(std::string_view bytes, Padding padding = Padding::with);

// Decodes the standard alphabet with the same strictness as base64url_decode. Trailing '='
// padding is optional; when present it must bring the length to a multiple of four.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace gh::jose
