#include "jose/base64url.h"

#include <array>
#include <cstdint>

namespace gh::jose {
namespace {

constexpr std::string_view kUrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kStandardAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr int kInvalid = -1;

using DecodeTable = std::array<int, 256>;

constexpr DecodeTable make_decode_table(std::string_view alphabet) {
  DecodeTable table{};
  table.fill(kInvalid);
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
  }
  return table;
}

constexpr DecodeTable kUrlDecodeTable = make_decode_table(kUrlAlphabet);
constexpr DecodeTable kStandardDecodeTable = make_decode_table(kStandardAlphabet);

// Encodes without padding in the given 64-character alphabet.
std::string encode(std::span<const unsigned char> bytes, std::string_view alphabet) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3 + 2);

  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group = (std::uint32_t{bytes[i]} << 16) |
                                (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out += alphabet[(group >> 18) & 63];
    out += alphabet[(group >> 12) & 63];
    out += alphabet[(group >> 6) & 63];
    out += alphabet[group & 63];
  }

  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t group = std::uint32_t{bytes[i]} << 16;
    out += alphabet[(group >> 18) & 63];
    out += alphabet[(group >> 12) & 63];
  } else if (rest == 2) {
    const std::uint32_t group = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8);
    out += alphabet[(group >> 18) & 63];
    out += alphabet[(group >> 12) & 63];
    out += alphabet[(group >> 6) & 63];
  }
  return out;
}

std::span<const unsigned char> as_bytes(std::string_view text) {
  return {reinterpret_cast<const unsigned char*>(text.data()), text.size()};
}

// Decodes unpadded text in the alphabet `table` was built from; see base64url_decode.
std::optional<std::string> decode(std::string_view text, const DecodeTable& table) {
  // A single character carries only 6 bits, less than one byte.
  if (text.size() % 4 == 1) {
    return std::nullopt;
  }

  // Written by index into a buffer of the final size, 4 characters to 3 bytes at a time.
  std::string out(text.size() / 4 * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1), '\0');
  char* cursor = out.data();
  std::size_t i = 0;
  for (; i + 4 <= text.size(); i += 4) {
    const int a = table[static_cast<unsigned char>(text[i])];
    const int b = table[static_cast<unsigned char>(text[i + 1])];
    const int c = table[static_cast<unsigned char>(text[i + 2])];
    const int d = table[static_cast<unsigned char>(text[i + 3])];
    if ((a | b | c | d) < 0) {
      return std::nullopt;
    }
    const std::uint32_t group = (static_cast<std::uint32_t>(a) << 18) | (static_cast<std::uint32_t>(b) << 12) |
                                (static_cast<std::uint32_t>(c) << 6) | static_cast<std::uint32_t>(d);
    *cursor++ = static_cast<char>(group >> 16);
    *cursor++ = static_cast<char>((group >> 8) & 0xFF);
    *cursor++ = static_cast<char>(group & 0xFF);
  }

  // The last 2 or 3 characters carry 1 or 2 bytes.
  std::uint32_t buffer = 0;
  int bits = 0;
  for (; i < text.size(); ++i) {
    const int value = table[static_cast<unsigned char>(text[i])];
    if (value == kInvalid) {
      return std::nullopt;
    }
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *cursor++ = static_cast<char>((buffer >> bits) & 0xFF);
    }
  }

  // Leftover bits (2 or 4) must be zero, otherwise two encodings would decode alike.
  if ((buffer & ((1u << bits) - 1)) != 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

std::string base64url_encode(std::span<const unsigned char> bytes) { return encode(bytes, kUrlAlphabet); }

std::string base64url_encode(std::string_view bytes) { return encode(as_bytes(bytes), kUrlAlphabet); }

std::optional<std::string> base64url_decode(std::string_view text) { return decode(text, kUrlDecodeTable); }

std::string base64_encode(std::string_view bytes, Padding padding) {
  std::string out = encode(as_bytes(bytes), kStandardAlphabet);
  if (padding == Padding::with) {
    while (out.size() % 4 != 0) out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::size_t unpadded = text.size();
  while (unpadded > 0 && text.size() - unpadded < 2 && text[unpadded - 1] == '=') --unpadded;
  if (unpadded != text.size() && text.size() % 4 != 0) return std::nullopt;
  return decode(text.substr(0, unpadded), kStandardDecodeTable);
}

}  // namespace gh::jose
