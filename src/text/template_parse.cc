#include "text/template_parse.h"

#include <cctype>
#include <charconv>
#include <cstdlib>

#include "text/template.h"
#include "text/template_funcs.h"

namespace gh::text::detail {
namespace {

namespace json = boost::json;

// Deeper nesting of control actions or parentheses is rejected, so that hostile templates
// cannot exhaust the stack of the recursive parser and executor.
constexpr int kMaxNesting = 100;

enum class Token {
  kText, kLeft, kRight, kIdentifier, kKeyword, kField, kVariable, kDot, kConstant, kNil,
  kLeftParen, kRightParen, kPipe, kDeclare, kAssign, kComma, kEof,
};

struct Lexeme {
  Token type;
  Position position;
  std::string text;           // text, identifier, keyword, field or variable name
  json::value constant;       // decoded string, number or bool
  bool spaced = false;        // whitespace directly before this token
};

[[noreturn]] void fail(Position position, const std::string& message) {
  throw TemplateError("template: " + std::to_string(position.line) + ":" +
                      std::to_string(position.column) + ": " + message);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, uint32_t rune) {
  if (rune > 0x10ffff || (rune >= 0xd800 && rune <= 0xdfff)) rune = 0xfffd;
  if (rune < 0x80) {
    out.push_back(static_cast<char>(rune));
  } else if (rune < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (rune >> 6)));
    out.push_back(static_cast<char>(0x80 | (rune & 0x3f)));
  } else if (rune < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (rune >> 12)));
    out.push_back(static_cast<char>(0x80 | ((rune >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (rune & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (rune >> 18)));
    out.push_back(static_cast<char>(0x80 | ((rune >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((rune >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (rune & 0x3f)));
  }
}

// Splits the source into text and action tokens, applying trim markers and dropping comments.
class Lexer {
 public:
  explicit Lexer(std::string_view source) : source_(source) {}

  std::vector<Lexeme> run() {
    bool trim_next_text = false;
    while (offset_ < source_.size()) {
      size_t open = source_.find("{{", offset_);
      std::string_view text = source_.substr(offset_, open == std::string_view::npos
                                                          ? std::string_view::npos
                                                          : open - offset_);
      bool trim_left = open != std::string_view::npos && has_left_trim(open + 2);
      emit_text(text, trim_next_text, trim_left);
      if (open == std::string_view::npos) break;

      advance_to(open);
      Position delimiter = here();
      advance_to(open + 2 + (trim_left ? 2 : 0));
      trim_next_text = lex_action(delimiter);
    }
    tokens_.push_back(Lexeme{Token::kEof, here(), "", nullptr, false});
    return std::move(tokens_);
  }

 private:
  bool has_left_trim(size_t at) const {
    return at + 1 < source_.size() && source_[at] == '-' && is_space(source_[at + 1]);
  }

  // A right trim marker is whitespace, '-' and the closing delimiter.
  bool at_right_trim(size_t at) const {
    return at < source_.size() && is_space(source_[at]) &&
           source_.substr(at + 1, 3) == "-}}";
  }

  void emit_text(std::string_view text, bool trim_front, bool trim_back) {
    Position start = here();
    if (trim_front) {
      while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    }
    if (trim_back) {
      while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    }
    if (!text.empty()) tokens_.push_back(Lexeme{Token::kText, start, std::string(text), nullptr, false});
  }

  // Lexes one action after its opening delimiter. Returns whether it ended with `-}}`.
  bool lex_action(Position open) {
    if (source_.substr(offset_, 2) == "/*") return lex_comment(open);

    tokens_.push_back(Lexeme{Token::kLeft, open, "", nullptr, false});
    int depth = 0;
    while (true) {
      bool spaced = false;
      if (at_right_trim(offset_)) {
        tokens_.push_back(Lexeme{Token::kRight, here(), "", nullptr, true});
        advance_to(offset_ + 4);
        return true;
      }
      while (offset_ < source_.size() && is_space(source_[offset_])) {
        if (at_right_trim(offset_)) break;
        advance_to(offset_ + 1);
        spaced = true;
      }
      if (at_right_trim(offset_)) continue;
      if (offset_ >= source_.size()) fail(open, "unclosed action");
      if (source_.substr(offset_, 2) == "}}") {
        if (depth > 0) fail(here(), "unclosed left paren");
        tokens_.push_back(Lexeme{Token::kRight, here(), "", nullptr, spaced});
        advance_to(offset_ + 2);
        return false;
      }
      Lexeme token = lex_token();
      token.spaced = spaced;
      if (token.type == Token::kLeftParen) ++depth;
      if (token.type == Token::kRightParen && --depth < 0) fail(token.position, "unexpected right paren");
      tokens_.push_back(std::move(token));
    }
  }

  bool lex_comment(Position open) {
    size_t close = source_.find("*/", offset_ + 2);
    if (close == std::string_view::npos) fail(open, "unclosed comment");
    advance_to(close + 2);
    if (source_.substr(offset_, 2) == "}}") {
      advance_to(offset_ + 2);
      return false;
    }
    if (at_right_trim(offset_)) {
      advance_to(offset_ + 4);
      return true;
    }
    fail(here(), "comment ends before closing delimiter");
  }

  Lexeme lex_token() {
    Position start = here();
    char c = source_[offset_];
    char next = offset_ + 1 < source_.size() ? source_[offset_ + 1] : '\0';
    auto simple = [&](Token type, size_t length) {
      advance_to(offset_ + length);
      return Lexeme{type, start, "", nullptr, false};
    };

    if (c == '"') return lex_quoted(start);
    if (c == '`') return lex_raw(start);
    if (c == '\'') return lex_char(start);
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        ((c == '-' || c == '+' || c == '.') && std::isdigit(static_cast<unsigned char>(next)))) {
      return lex_number(start);
    }
    if (c == '.') {
      if (!is_alnum(next)) return simple(Token::kDot, 1);
      return Lexeme{Token::kField, start, lex_word(offset_ + 1), nullptr, false};
    }
    if (c == '$') return Lexeme{Token::kVariable, start, "$" + lex_word(offset_ + 1), nullptr, false};
    if (is_alnum(c)) return lex_identifier(start);
    if (c == '(') return simple(Token::kLeftParen, 1);
    if (c == ')') return simple(Token::kRightParen, 1);
    if (c == '|') return simple(Token::kPipe, 1);
    if (c == ',') return simple(Token::kComma, 1);
    if (c == ':' && next == '=') return simple(Token::kDeclare, 2);
    if (c == '=') return simple(Token::kAssign, 1);
    fail(start, std::string("unexpected \"") + c + "\" in command");
  }

  std::string lex_word(size_t from) {
    size_t end = from;
    while (end < source_.size() && is_alnum(source_[end])) ++end;
    std::string word(source_.substr(from, end - from));
    advance_to(end);
    return word;
  }

  Lexeme lex_identifier(Position start) {
    std::string word = lex_word(offset_);
    static constexpr std::string_view kKeywords[] = {"if", "else", "end", "range", "with",
                                                     "break", "continue", "define",
                                                     "template", "block"};
    for (std::string_view keyword : kKeywords) {
      if (word == keyword) return Lexeme{Token::kKeyword, start, word, nullptr, false};
    }
    if (word == "true" || word == "false") {
      return Lexeme{Token::kConstant, start, word, json::value(word == "true"), false};
    }
    if (word == "nil") return Lexeme{Token::kNil, start, word, nullptr, false};
    return Lexeme{Token::kIdentifier, start, word, nullptr, false};
  }

  Lexeme lex_number(Position start) {
    size_t end = offset_ + 1;
    while (end < source_.size()) {
      char c = source_[end];
      char previous = source_[end - 1];
      bool exponent_sign = (c == '+' || c == '-') &&
                           (previous == 'e' || previous == 'E' || previous == 'p' || previous == 'P');
      if (!is_alnum(c) && c != '.' && !exponent_sign) break;
      ++end;
    }
    std::string text(source_.substr(offset_, end - offset_));
    advance_to(end);
    return Lexeme{Token::kConstant, start, text, parse_number(start, text), false};
  }

  static json::value parse_number(Position start, const std::string& text) {
    std::string digits;
    for (char c : text) {
      if (c != '_') digits.push_back(c);
    }
    bool negative = !digits.empty() && digits[0] == '-';
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.erase(0, 1);

    int base = 10;
    size_t prefix = 0;
    if (digits.size() > 1 && digits[0] == '0') {
      char marker = static_cast<char>(std::tolower(static_cast<unsigned char>(digits[1])));
      if (marker == 'x') base = 16, prefix = 2;
      else if (marker == 'o') base = 8, prefix = 2;
      else if (marker == 'b') base = 2, prefix = 2;
      else if (std::isdigit(static_cast<unsigned char>(marker))) base = 8, prefix = 1;
    }
    bool is_float = base == 10 && digits.find_first_of(".eE") != std::string::npos;

    if (is_float) {
      const char* begin = digits.c_str();
      char* parsed_end = nullptr;
      double number = std::strtod(begin, &parsed_end);
      if (digits.empty() || parsed_end != begin + digits.size()) fail(start, "bad number syntax: " + text);
      return json::value(negative ? -number : number);
    }
    int64_t number = 0;
    const char* begin = digits.data() + prefix;
    const char* end = digits.data() + digits.size();
    auto [stop, error] = std::from_chars(begin, end, number, base);
    if (begin == end || error != std::errc() || stop != end) fail(start, "bad number syntax: " + text);
    return json::value(negative ? -number : number);
  }

  Lexeme lex_raw(Position start) {
    size_t close = source_.find('`', offset_ + 1);
    if (close == std::string_view::npos) fail(start, "unterminated raw quoted string");
    std::string text(source_.substr(offset_ + 1, close - offset_ - 1));
    advance_to(close + 1);
    return Lexeme{Token::kConstant, start, "", json::value(text), false};
  }

  Lexeme lex_quoted(Position start) {
    std::string text;
    size_t at = offset_ + 1;
    while (true) {
      if (at >= source_.size() || source_[at] == '\n') fail(start, "unterminated quoted string");
      char c = source_[at];
      if (c == '"') break;
      if (c == '\\') {
        at = decode_escape(start, at, '"', text);
        continue;
      }
      text.push_back(c);
      ++at;
    }
    advance_to(at + 1);
    return Lexeme{Token::kConstant, start, "", json::value(text), false};
  }

  Lexeme lex_char(Position start) {
    std::string text;
    size_t at = offset_ + 1;
    if (at < source_.size() && source_[at] == '\\') {
      at = decode_escape(start, at, '\'', text);
    } else {
      // One UTF-8 encoded rune.
      do {
        if (at >= source_.size()) fail(start, "unterminated character constant");
        text.push_back(source_[at++]);
      } while (at < source_.size() && (static_cast<unsigned char>(source_[at]) & 0xc0) == 0x80);
    }
    if (text.size() > 4) fail(start, "malformed character constant");
    if (at >= source_.size() || source_[at] != '\'') fail(start, "unterminated character constant");
    advance_to(at + 1);
    return Lexeme{Token::kConstant, start, "", json::value(decode_rune(text)), false};
  }

  static int64_t decode_rune(const std::string& utf8) {
    auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(utf8[i])); };
    if (utf8.empty()) return 0;
    if (utf8.size() == 1) return byte(0);
    uint32_t rune = byte(0) & (0xff >> (utf8.size() + 1));
    for (size_t i = 1; i < utf8.size(); ++i) rune = (rune << 6) | (byte(i) & 0x3f);
    return rune;
  }

  // Decodes the Go escape sequence starting at the backslash at `at` and returns the offset
  // after it.
  size_t decode_escape(Position start, size_t at, char quote, std::string& out) {
    if (at + 1 >= source_.size()) fail(start, "unterminated quoted string");
    char c = source_[at + 1];
    switch (c) {
      case 'a': out.push_back('\a'); return at + 2;
      case 'b': out.push_back('\b'); return at + 2;
      case 'f': out.push_back('\f'); return at + 2;
      case 'n': out.push_back('\n'); return at + 2;
      case 'r': out.push_back('\r'); return at + 2;
      case 't': out.push_back('\t'); return at + 2;
      case 'v': out.push_back('\v'); return at + 2;
      case '\\': out.push_back('\\'); return at + 2;
      default: break;
    }
    if (c == quote) {
      out.push_back(c);
      return at + 2;
    }
    size_t length = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
    if (length > 0) {
      uint32_t rune = 0;
      for (size_t i = 0; i < length; ++i) {
        int digit = at + 2 + i < source_.size() ? hex_value(source_[at + 2 + i]) : -1;
        if (digit < 0) fail(start, "invalid escape sequence in string");
        rune = rune * 16 + static_cast<uint32_t>(digit);
      }
      if (c == 'x') out.push_back(static_cast<char>(rune));
      else append_utf8(out, rune);
      return at + 2 + length;
    }
    if (c >= '0' && c <= '7') {
      uint32_t value = 0;
      for (size_t i = 0; i < 3; ++i) {
        char digit = at + 1 + i < source_.size() ? source_[at + 1 + i] : 'x';
        if (digit < '0' || digit > '7') fail(start, "invalid escape sequence in string");
        value = value * 8 + static_cast<uint32_t>(digit - '0');
      }
      if (value > 255) fail(start, "invalid escape sequence in string");
      out.push_back(static_cast<char>(value));
      return at + 4;
    }
    fail(start, "invalid escape sequence in string");
  }

  Position here() const { return position_; }

  void advance_to(size_t offset) {
    for (; offset_ < offset && offset_ < source_.size(); ++offset_) {
      if (source_[offset_] == '\n') {
        ++position_.line;
        position_.column = 1;
      } else {
        ++position_.column;
      }
    }
  }

  std::string_view source_;
  size_t offset_ = 0;
  Position position_;
  std::vector<Lexeme> tokens_;
};

std::string describe(const Lexeme& token) {
  switch (token.type) {
    case Token::kText: return "text";
    case Token::kLeft: return "\"{{\"";
    case Token::kRight: return "\"}}\"";
    case Token::kKeyword: return "<" + token.text + ">";
    case Token::kIdentifier: return "identifier \"" + token.text + "\"";
    case Token::kField: return "field \"." + token.text + "\"";
    case Token::kVariable: return "variable \"" + token.text + "\"";
    case Token::kDot: return "\".\"";
    case Token::kConstant: return "constant";
    case Token::kNil: return "nil";
    case Token::kLeftParen: return "\"(\"";
    case Token::kRightParen: return "\")\"";
    case Token::kPipe: return "\"|\"";
    case Token::kDeclare: return "\":=\"";
    case Token::kAssign: return "\"=\"";
    case Token::kComma: return "\",\"";
    case Token::kEof: return "EOF";
  }
  return "token";
}

enum class Terminator { kEof, kEnd, kElse };

// Recursive-descent parser over the token list. It tracks declared variables so that a
// reference to an undefined variable is a parse error, as in Go.
class Parser {
 public:
  explicit Parser(std::vector<Lexeme> tokens) : tokens_(std::move(tokens)) {}

  std::vector<Node> run() {
    auto [nodes, terminator] = parse_list();
    if (terminator != Terminator::kEof) {
      fail(previous_position_, terminator == Terminator::kEnd ? "unexpected {{end}}" : "unexpected {{else}}");
    }
    return std::move(nodes);
  }

 private:
  const Lexeme& peek(size_t ahead = 0) const {
    size_t at = std::min(index_ + ahead, tokens_.size() - 1);
    return tokens_[at];
  }

  const Lexeme& next() {
    const Lexeme& token = peek();
    previous_position_ = token.position;
    if (index_ < tokens_.size() - 1) ++index_;
    return token;
  }

  bool peek_keyword(std::string_view keyword) const {
    return peek().type == Token::kKeyword && peek().text == keyword;
  }

  void expect(Token type, std::string_view context) {
    const Lexeme& token = next();
    if (token.type == Token::kEof) fail(token.position, "unexpected EOF");
    if (token.type != type) fail(token.position, "unexpected " + describe(token) + " in " + std::string(context));
  }

  std::pair<std::vector<Node>, Terminator> parse_list() {
    std::vector<Node> nodes;
    while (true) {
      const Lexeme& token = next();
      if (token.type == Token::kEof) return {std::move(nodes), Terminator::kEof};
      if (token.type == Token::kText) {
        Node node;
        node.type = Node::Type::kText;
        node.position = token.position;
        node.text = token.text;
        nodes.push_back(std::move(node));
        continue;
      }
      // Only text and left delimiters appear between actions.
      if (peek_keyword("end")) {
        next();
        return {std::move(nodes), Terminator::kEnd};
      }
      if (peek_keyword("else")) {
        next();
        return {std::move(nodes), Terminator::kElse};
      }
      nodes.push_back(parse_action(token.position));
    }
  }

  Node parse_action(Position open) {
    Node node;
    node.position = open;
    if (peek().type == Token::kKeyword) {
      const Lexeme& keyword = next();
      if (keyword.text == "if") return parse_control(Node::Type::kIf, keyword.position);
      if (keyword.text == "range") return parse_control(Node::Type::kRange, keyword.position);
      if (keyword.text == "with") return parse_control(Node::Type::kWith, keyword.position);
      if (keyword.text == "break" || keyword.text == "continue") {
        if (range_depth_ == 0) fail(keyword.position, "{{" + keyword.text + "}} outside {{range}}");
        expect(Token::kRight, keyword.text);
        node.type = keyword.text == "break" ? Node::Type::kBreak : Node::Type::kContinue;
        return node;
      }
      fail(keyword.position, "{{" + keyword.text + "}} is not supported");
    }
    node.type = Node::Type::kAction;
    node.pipeline = parse_pipeline("command", Token::kRight, false);
    return node;
  }

  Node parse_control(Node::Type type, Position position) {
    NestingGuard guard(*this, position);
    size_t scope = variables_.size();
    Node node;
    node.type = type;
    node.position = position;
    node.pipeline = parse_pipeline(type == Node::Type::kIf ? "if" : type == Node::Type::kRange ? "range" : "with",
                                   Token::kRight, type == Node::Type::kRange);

    if (type == Node::Type::kRange) ++range_depth_;
    auto [body, terminator] = parse_list();
    if (type == Node::Type::kRange) --range_depth_;
    node.body = std::move(body);

    if (terminator == Terminator::kEof) fail(previous_position_, "unexpected EOF");
    if (terminator == Terminator::kElse) parse_else(node);
    else expect(Token::kRight, "end");
    variables_.resize(scope);
    return node;
  }

  // Parses what follows `{{else`: either `if …}}`/`with …}}` chaining a new control action that
  // shares this one's {{end}}, or `}}` and the else list up to {{end}}.
  void parse_else(Node& node) {
    bool chains = (node.type == Node::Type::kIf && peek_keyword("if")) ||
                  (node.type == Node::Type::kWith && peek_keyword("with"));
    if (chains) {
      const Lexeme& keyword = next();
      node.else_body.push_back(parse_control(node.type, keyword.position));
      return;
    }
    expect(Token::kRight, "else");
    auto [else_body, terminator] = parse_list();
    if (terminator != Terminator::kEnd) fail(previous_position_, "expected {{end}}");
    expect(Token::kRight, "end");
    node.else_body = std::move(else_body);
  }

  Pipeline parse_pipeline(std::string_view context, Token end, bool allows_two_variables) {
    Pipeline pipeline;
    pipeline.position = peek().position;
    std::vector<std::string> declared = parse_declarations(pipeline, allows_two_variables);

    while (true) {
      pipeline.commands.push_back(parse_command(context));
      const Lexeme& token = next();
      if (token.type == Token::kPipe) continue;
      if (token.type == end) break;
      if (token.type == Token::kEof) fail(token.position, "unclosed action");
      fail(token.position, "unexpected " + describe(token) + " in " + std::string(context));
    }
    for (auto& name : declared) variables_.push_back(std::move(name));
    return pipeline;
  }

  std::vector<std::string> parse_declarations(Pipeline& pipeline, bool allows_two_variables) {
    if (peek().type != Token::kVariable) return {};
    bool two = peek(1).type == Token::kComma && peek(2).type == Token::kVariable;
    Token operation = peek(two ? 3 : 1).type;
    if (operation != Token::kDeclare && operation != Token::kAssign) return {};
    if (two && !allows_two_variables) fail(peek().position, "too many declarations in command");

    pipeline.variables.push_back(next().text);
    if (two) {
      next();
      pipeline.variables.push_back(next().text);
    }
    const Lexeme& operator_token = next();
    pipeline.is_assignment = operation == Token::kAssign;
    if (!pipeline.is_assignment) return pipeline.variables;
    for (const auto& name : pipeline.variables) {
      if (!is_declared(name)) fail(operator_token.position, "undefined variable \"" + name + "\"");
    }
    return {};
  }

  Command parse_command(std::string_view context) {
    Command command;
    command.position = peek().position;
    while (true) {
      Token type = peek().type;
      if (type == Token::kPipe || type == Token::kRight || type == Token::kRightParen || type == Token::kEof) break;
      command.operands.push_back(parse_operand());
    }
    if (command.operands.empty()) fail(command.position, "missing value for " + std::string(context));
    return command;
  }

  Operand parse_operand() {
    const Lexeme& token = next();
    Operand operand;
    operand.position = token.position;
    switch (token.type) {
      case Token::kDot:
        operand.type = Operand::Type::kDot;
        return operand;
      case Token::kField:
        operand.type = Operand::Type::kField;
        operand.fields.push_back(token.text);
        break;
      case Token::kVariable:
        if (!is_declared(token.text)) fail(token.position, "undefined variable \"" + token.text + "\"");
        operand.type = Operand::Type::kVariable;
        operand.name = token.text;
        break;
      case Token::kIdentifier:
        if (!is_function(token.text)) fail(token.position, "function \"" + token.text + "\" not defined");
        operand.type = Operand::Type::kFunction;
        operand.name = token.text;
        return operand;
      case Token::kConstant:
        operand.type = Operand::Type::kConstant;
        operand.constant = token.constant;
        return operand;
      case Token::kNil:
        operand.type = Operand::Type::kNil;
        return operand;
      case Token::kLeftParen: {
        NestingGuard guard(*this, token.position);
        operand.type = Operand::Type::kPipeline;
        operand.pipeline = std::make_shared<const Pipeline>(parse_pipeline("parenthesized pipeline", Token::kRightParen, false));
        break;
      }
      case Token::kEof:
        fail(token.position, "unclosed action");
      default:
        fail(token.position, "unexpected " + describe(token) + " in operand");
    }
    while (peek().type == Token::kField && !peek().spaced) operand.fields.push_back(next().text);
    return operand;
  }

  bool is_declared(const std::string& name) const {
    if (name == "$") return true;
    for (const auto& variable : variables_) {
      if (variable == name) return true;
    }
    return false;
  }

  // Counts nesting of control actions and parentheses for the duration of one parse call.
  class NestingGuard {
   public:
    NestingGuard(Parser& parser, Position position) : parser_(parser) {
      if (++parser_.depth_ > kMaxNesting) fail(position, "template nesting too deep");
    }
    ~NestingGuard() { --parser_.depth_; }
    NestingGuard(const NestingGuard&) = delete;
    NestingGuard& operator=(const NestingGuard&) = delete;

   private:
    Parser& parser_;
  };

  std::vector<Lexeme> tokens_;
  size_t index_ = 0;
  Position previous_position_;
  std::vector<std::string> variables_;
  int range_depth_ = 0;
  int depth_ = 0;
};

}  // namespace

std::vector<Node> parse_template(std::string_view source) {
  Lexer lexer(source);
  Parser parser(lexer.run());
  return parser.run();
}

}  // namespace gh::text::detail
