#include "jose/base64url.h"

#include <array>
#include <cstdint>

namespace gh::jose {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr int kInvalid = -1;

constexpr std::array<int, 256> make_decode_table() {
  std::array<int, 256> table{};
  table.fill(kInvalid);
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
  }
  return table;
}

constexpr std::array<int, 256> kDecodeTable = make_decode_table();

}  // namespace

std::string base64url_encode(std::span<const unsigned char> bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);

  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group = (std::uint32_t{bytes[i]} << 16) |
                                (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += kAlphabet[(group >> 6) & 63];
    out += kAlphabet[group & 63];
  }

  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t group = std::uint32_t{bytes[i]} << 16;
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
  } else if (rest == 2) {
    const std::uint32_t group = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8);
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += kAlphabet[(group >> 6) & 63];
  }
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  return base64url_encode(std::span<const unsigned char>(
      reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()));
}

std::optional<std::string> base64url_decode(std::string_view text) {
  // A single character carries only 6 bits, less than one byte.
  if (text.size() % 4 == 1) {
    return std::nullopt;
  }

  // Written by index into a buffer of the final size, 4 characters to 3 bytes at a time.
  std::string out(text.size() / 4 * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1), '\0');
  char* cursor = out.data();
  std::size_t i = 0;
  for (; i + 4 <= text.size(); i += 4) {
    const int a = kDecodeTable[static_cast<unsigned char>(text[i])];
    const int b = kDecodeTable[static_cast<unsigned char>(text[i + 1])];
    const int c = kDecodeTable[static_cast<unsigned char>(text[i + 2])];
    const int d = kDecodeTable[static_cast<unsigned char>(text[i + 3])];
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
    const int value = kDecodeTable[static_cast<unsigned char>(text[i])];
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

}  // namespace gh::jose
