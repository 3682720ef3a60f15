// Runtime values of the template engine and Go-compatible formatting of them.
//
// Templates see the session as a JSON value. Go's text/template sees typed structs instead, and
// some of those types have methods that real rules call (`.Header.Get "x"`, `.URL.Query.Get`).
// A Value therefore carries a Kind that records which Go type it stands for, so that the same
// JSON object can answer `.Get` when it is a header map and be a plain map otherwise.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <boost/json.hpp>

namespace gh::text::detail {

enum class Kind {
  kPlain,         // any JSON value; fields are map keys
  kSession,       // the root data: .Header is a header map, .MatchContext a match context
  kMatchContext,  // .Header is a header map, .URL a URL
  kHeaderMap,     // Go http.Header: has Get
  kUrl,           // Go url.URL: has String and Query
  kQuery,         // Go url.Values: has Get
};

// A JSON value that is either borrowed from the render data or owned by the value itself.
// Copies are cheap because owned JSON is shared and never modified.
class Value {
 public:
  Value();
  static Value borrow(const boost::json::value& json, Kind kind = Kind::kPlain);
  static Value own(boost::json::value json, Kind kind = Kind::kPlain);

  // Returns a value for `child`, which must live inside this value's JSON; the result keeps
  // this value's storage alive.
  Value member(const boost::json::value& child, Kind kind) const { return Value(&child, owned_, kind); }

  const boost::json::value& json() const { return *json_; }
  Kind kind() const { return kind_; }
  bool is_null() const { return json_->is_null(); }

 private:
  Value(const boost::json::value* json, std::shared_ptr<const boost::json::value> owned, Kind kind);

  const boost::json::value* json_;
  std::shared_ptr<const boost::json::value> owned_;
  Kind kind_;
};

// Go's truth rule for if/with/and/or: false, 0, "", nil and empty collections are false.
bool is_true(const boost::json::value& json);

// Formats like Go's fmt %v on the value that encoding/json would produce: null is "<nil>",
// arrays are "[a b]", objects are "map[k:v]" with sorted keys.
std::string format_value(const boost::json::value& json);
void append_value(std::string& out, const boost::json::value& json);

// Formats a float64 like Go's %v: the shortest representation that round-trips, in exponent
// form when the decimal exponent is below -4 or at least 6 (1e+06, 1.5e-05).
std::string format_float(double number);

// Quotes like Go's strconv.Quote.
std::string quote_go(std::string_view text);

// Serializes like Go's encoding/json.Marshal: sorted object keys, <, > and & escaped.
std::string marshal_json(const boost::json::value& json);

// The Go type name a value decodes to, used in error messages ("float64", "string").
std::string_view go_type_name(const boost::json::value& json);

}  // namespace gh::text::detail
