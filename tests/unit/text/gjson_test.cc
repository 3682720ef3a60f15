#include "text/gjson.h"

#include <gtest/gtest.h>

namespace gh::text {
namespace {

namespace json = boost::json;

json::value document() {
  return json::parse(R"({
    "sub": "123",
    "identity": {"id": "abc", "traits": {"email": "a@example.com"}},
    "fav.movie": "Deer Hunter",
    "name": {"first": "Tom", "last": "Anderson"},
    "children": ["Sara", "Alex", "Jack"],
    "friends": [
      {"first": "Dale", "last": "Murphy", "age": 44, "nets": ["ig", "fb", "tw"], "admin": true},
      {"first": "Roger", "last": "Craig", "age": 68, "nets": ["fb", "tw"], "admin": false},
      {"first": "Jane", "last": "Murphy", "age": 47, "nets": ["ig", "tw"]}
    ],
    "a": [{"b": "x"}, {"c": "y"}, {"b": "z"}]
  })");
}

// Returns the serialized result, or "<none>" when nothing matches.
std::string get(std::string_view path) {
  auto compiled = GjsonPath::compile(path);
  EXPECT_TRUE(compiled.has_value()) << path << ": " << (compiled ? "" : compiled.error());
  if (!compiled) return "<invalid>";
  auto result = compiled->get(document());
  return result ? json::serialize(*result) : "<none>";
}

TEST(GjsonPath, ResolvesPaths) {
  const std::pair<const char*, const char*> cases[] = {
      {"sub", R"("123")"},
      {"identity.id", R"("abc")"},
      {"identity.traits", R"({"email":"a@example.com"})"},
      {"fav\\.movie", R"("Deer Hunter")"},
      {"children.1", R"("Alex")"},
      {"children.#", "3"},
      {"a.0.b", R"("x")"},
      {"a.#", "3"},
      {"a.#.b", R"(["x","z"])"},
      {"friends.#.nets.#", "[3,2,2]"},
      {"friends.#(last==\"Murphy\").first", R"("Dale")"},
      {"friends.#(last==\"Murphy\")#.first", R"(["Dale","Jane"])"},
      {"friends.#(age>45)#.first", R"(["Roger","Jane"])"},
      {"friends.#(age<=44).first", R"("Dale")"},
      {"friends.#(age!=44)#.age", "[68,47]"},
      {"friends.#(first%\"J*\").last", R"("Murphy")"},
      {"friends.#(first!%\"D*\")#.first", R"(["Roger","Jane"])"},
      {"friends.#(admin==true).first", R"("Dale")"},
      {"friends.#(admin==false).first", R"("Roger")"},
      {"friends.#(nets.#(==\"fb\"))#.first", R"(["Dale","Roger"])"},
      {"friends.#(admin)#.first", R"(["Dale","Roger"])"},
      {"name.fir*", R"("Tom")"},
      {"name.?ast", R"("Anderson")"},
      {"na*.last", R"("Anderson")"},
      {"@this.sub", R"("123")"},
      {"identity.@this.id", R"("abc")"},
      {"a.#.b|0", R"("x")"},
      {"a.#.b|#", "2"},
      {"friends|1|first", R"("Roger")"},
  };
  for (const auto& [path, expected] : cases) EXPECT_EQ(get(path), expected) << path;
}

TEST(GjsonPath, ThisReturnsWholeDocument) {
  auto path = GjsonPath::compile("@this");
  ASSERT_TRUE(path.has_value());
  auto result = path->get(document());
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, document());
  EXPECT_EQ(path->source(), "@this");
}

TEST(GjsonPath, MissingReturnsNullopt) {
  for (const char* path : {"missing", "identity.missing", "children.9", "children.x", "sub.x", "fav.movie",
                           "friends.#(last==\"Nobody\").first", "sub.#", "name.z*", "a.#.b|5"}) {
    EXPECT_EQ(get(path), "<none>") << path;
  }
  EXPECT_EQ(get("friends.#(last==\"Nobody\")#"), "[]");
}

TEST(GjsonPath, NonObjectDocument) {
  auto path = GjsonPath::compile("sub");
  ASSERT_TRUE(path.has_value());
  EXPECT_FALSE(path->get(json::value(nullptr)).has_value());
  EXPECT_FALSE(path->get(json::value("text")).has_value());
}

TEST(GjsonPath, InvalidPathsAreRejected) {
  for (const char* path : {"", "a..b", "a.", ".a", "a\\", "friends.#(last==\"x\"", "friends.#(last==)",
                           "friends.#(last==\"x)", "friends.#()", "friends.#(a==1)x", "@reverse"}) {
    auto compiled = GjsonPath::compile(path);
    EXPECT_FALSE(compiled.has_value()) << path;
    if (!compiled) {
      EXPECT_NE(compiled.error().find("invalid gjson path"), std::string::npos) << compiled.error();
    }
  }
}

}  // namespace
}  // namespace gh::text
