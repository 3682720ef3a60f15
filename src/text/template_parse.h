// Parse tree of the template language and the parser that builds it.
//
// The grammar is the part of Go's text/template that access rules use: text, actions with
// `{{-`/`-}}` trimming, comments, pipelines, variables, parenthesised sub-pipelines and the
// control actions if/else if/else, range (with break and continue) and with. The tree is
// immutable after parsing and shared by every render.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

namespace gh::text::detail {

// One-based line and column (in bytes) of a token in the template source.
struct Position {
  int line = 1;
  int column = 1;
};

struct Pipeline;

// One argument of a command, or the command itself when it is the first operand.
struct Operand {
  enum class Type { kDot, kField, kVariable, kFunction, kConstant, kNil, kPipeline };

  Type type = Type::kDot;
  Position position;
  std::string name;                 // function name, or variable name including the '$'
  std::vector<std::string> fields;  // field chain applied to the term: `.A.B`, `$x.A`, `(p).A`
  boost::json::value constant;      // string, number or bool literal
  std::shared_ptr<const Pipeline> pipeline;
};

// Operands separated by spaces; the first names the function or value.
struct Command {
  Position position;
  std::vector<Operand> operands;
};

// Commands joined by `|`, optionally declaring (`:=`) or assigning (`=`) variables.
struct Pipeline {
  Position position;
  std::vector<std::string> variables;
  bool is_assignment = false;
  std::vector<Command> commands;
};

struct Node {
  enum class Type { kText, kAction, kIf, kRange, kWith, kBreak, kContinue };

  Type type = Type::kText;
  Position position;
  std::string text;
  Pipeline pipeline;
  std::vector<Node> body;
  std::vector<Node> else_body;
};

// Parses a template. Raises TemplateError with "line:column: problem" on invalid syntax,
// unknown functions and undefined variables.
std::vector<Node> parse_template(std::string_view source);

}  // namespace gh::text::detail
