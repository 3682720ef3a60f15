#include "rules/pattern_syntax.h"

#include <fmt/format.h>
#include <re2/re2.h>

namespace gh::rules {

Expected<std::vector<Section>, std::string> find_sections(std::string_view pattern) {
  std::vector<Section> sections;
  size_t depth = 0;
  size_t begin = 0;

  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '<') {
      if (depth == 0) begin = i;
      ++depth;
    } else if (pattern[i] == '>') {
      if (depth == 0) {
        return Unexpected{fmt::format("unbalanced '>' at offset {}", i)};
      }
      --depth;
      if (depth == 0) sections.push_back(Section{begin, i + 1});
    }
  }

  if (depth != 0) {
    return Unexpected{fmt::format("unbalanced '<' at offset {}", begin)};
  }
  return sections;
}

namespace {

// Length of the UTF-8 sequence that starts with `lead`; 1 for ASCII and for stray bytes,
// which RE2 rejects later with its own message.
size_t utf8_length(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

// Appends one character (a whole UTF-8 sequence) so that RE2 reads it literally, inside or
// outside a character class.
void append_literal(std::string& out, std::string_view character) {
  const auto byte = static_cast<unsigned char>(character[0]);
  const bool punctuation = byte < 0x80 && !std::isalnum(byte) && byte != '_';
  if (punctuation) out += '\\';
  out += character;
}

// Recursive-descent translator. `in_braces` is the nesting depth of {…}, where ',' separates
// alternatives instead of being literal.
class GlobTranslator {
 public:
  explicit GlobTranslator(std::string_view glob) : glob_(glob) {}

  Expected<std::string, std::string> run() {
    std::string out;
    if (auto error = translate_sequence(out, 0); !error.empty()) return Unexpected{error};
    if (pos_ != glob_.size()) {
      return Unexpected{fmt::format("unexpected '{}' at offset {}", glob_[pos_], pos_)};
    }
    return out;
  }

 private:
  std::string_view next_character() {
    const size_t length = std::min(utf8_length(static_cast<unsigned char>(glob_[pos_])),
                                   glob_.size() - pos_);
    std::string_view character = glob_.substr(pos_, length);
    pos_ += length;
    return character;
  }

  // Translates until the end of input, or until ',' or '}' when inside braces.
  std::string translate_sequence(std::string& out, int in_braces) {
    while (pos_ < glob_.size()) {
      const char c = glob_[pos_];
      if (in_braces > 0 && (c == ',' || c == '}')) return {};

      if (c == '*') {
        const bool any_run = pos_ + 1 < glob_.size() && glob_[pos_ + 1] == '*';
        pos_ += any_run ? 2 : 1;
        out += any_run ? "(?s:.*)" : "[^./]*";
      } else if (c == '?') {
        ++pos_;
        out += "[^./]";
      } else if (c == '[') {
        if (auto error = translate_class(out); !error.empty()) return error;
      } else if (c == '{') {
        if (auto error = translate_alternatives(out, in_braces); !error.empty()) return error;
      } else if (c == '\\') {
        ++pos_;
        if (pos_ == glob_.size()) return "trailing '\\' escapes nothing";
        append_literal(out, next_character());
      } else if (c == ']' || c == '}') {
        return fmt::format("unbalanced '{}' at offset {}", c, pos_);
      } else {
        append_literal(out, next_character());
      }
    }
    if (in_braces > 0) return "unclosed '{'";
    return {};
  }

  std::string translate_class(std::string& out) {
    const size_t start = pos_;
    ++pos_;  // '['
    out += '[';
    if (pos_ < glob_.size() && glob_[pos_] == '!') {
      out += '^';
      ++pos_;
    }

    bool empty = true;
    while (pos_ < glob_.size() && glob_[pos_] != ']') {
      append_literal(out, next_character());
      empty = false;
      const bool range = pos_ + 1 < glob_.size() && glob_[pos_] == '-' && glob_[pos_ + 1] != ']';
      if (range) {
        ++pos_;
        out += '-';
        append_literal(out, next_character());
      }
    }

    if (pos_ == glob_.size()) return fmt::format("unclosed '[' at offset {}", start);
    if (empty) return fmt::format("empty character class at offset {}", start);
    ++pos_;  // ']'
    out += ']';
    return {};
  }

  std::string translate_alternatives(std::string& out, int in_braces) {
    const size_t start = pos_;
    ++pos_;  // '{'
    out += "(?:";
    while (true) {
      if (auto error = translate_sequence(out, in_braces + 1); !error.empty()) {
        return error == "unclosed '{'" ? fmt::format("unclosed '{{' at offset {}", start) : error;
      }
      if (pos_ == glob_.size()) return fmt::format("unclosed '{{' at offset {}", start);
      const char separator = glob_[pos_++];
      if (separator == '}') break;
      out += '|';
    }
    out += ')';
    return {};
  }

  std::string_view glob_;
  size_t pos_ = 0;
};

}  // namespace

Expected<std::string, std::string> glob_to_re2(std::string_view glob) {
  return GlobTranslator(glob).run();
}

}  // namespace gh::rules
