#include "text/template.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace gh::text {
namespace {

namespace json = boost::json;

// A session shaped like the one the pipeline builds for a matched request.
json::value session() {
  return json::parse(R"({
    "Subject": "alice",
    "Extra": {
      "nested": {"int": 10, "float": 3.14159, "bool": true, "big": 1500000.0},
      "example.com/claims": "claimed",
      "groups": ["admin", "dev"],
      "name": "Alice",
      "empty": "",
      "count": 0
    },
    "Header": {"X-Upstream": ["u1"]},
    "MatchContext": {
      "RegexpCaptureGroups": ["first", "second"],
      "Method": "GET",
      "URL": {"Scheme": "https", "Host": "api.example.com", "Path": "/users/42",
              "RawQuery": "q=hello+world&q=second&tag=a%2Fb&bad=%zz"},
      "Header": {"X-Foo": ["bar", "baz"], "Content-Type": ["text/plain"]}
    }
  })");
}

std::string render(std::string_view source, const json::value& data = session()) {
  auto result = Template::compile(source).render(data);
  EXPECT_TRUE(result.has_value()) << source << ": " << (result ? "" : result.error());
  return result ? *result : "<error>";
}

std::string render_error(std::string_view source, const json::value& data = session()) {
  auto result = Template::compile(source).render(data);
  EXPECT_FALSE(result.has_value()) << source << " rendered " << (result ? *result : "");
  return result ? "" : result.error();
}

std::string compile_error(std::string_view source) {
  try {
    Template::compile(source);
  } catch (const TemplateError& error) {
    return error.what();
  }
  ADD_FAILURE() << source << " compiled";
  return "";
}

struct Case {
  const char* source;
  const char* expected;
};

TEST(Template, RenderCasesFromAccessRules) {
  const Case cases[] = {
      {"{{ print .Subject }}", "alice"},
      {"{{ .Subject }}", "alice"},
      {"{{ print .Extra.nested.int }}", "10"},
      {"{{ print .Extra.nested.float }}", "3.14159"},
      {"{{ print .Extra.nested.bool }}", "true"},
      {"{{ print .Extra.nested.big }}", "1.5e+06"},
      {"{{ print .Extra.some.arbitrary.data }}", ""},
      {"{{ .Extra.missing }}", ""},
      {"{{ index .Extra \"example.com/claims\" }}", "claimed"},
      {"{{ index .MatchContext.RegexpCaptureGroups 0 }}", "first"},
      {"{{ printIndex .MatchContext.RegexpCaptureGroups 1 }}", "second"},
      {"{{ printIndex .MatchContext.RegexpCaptureGroups 7 }}", ""},
      {"{{ printIndex .Extra 0 }}", ""},
      {"{{ .MatchContext.Header.Get \"x-foo\" }}", "bar"},
      {"{{ .MatchContext.Header.Get \"X-MISSING\" }}", ""},
      {"{{ .Header.Get \"x-upstream\" }}", "u1"},
      {"{{ .MatchContext.URL.Query.Get \"q\" }}", "hello world"},
      {"{{ .MatchContext.URL.Query.Get \"tag\" }}", "a/b"},
      {"{{ .MatchContext.URL.Query.Get \"bad\" }}", ""},
      {"{{ .MatchContext.URL.String }}", "https://api.example.com/users/42?q=hello+world&q=second&tag=a%2Fb&bad=%zz"},
      {"{{ .MatchContext.URL.Path }}", "/users/42"},
      {"{{ .MatchContext.Method }}", "GET"},
      {"{{ index .MatchContext.RegexpCaptureGroups (sub 1 1 | int) }}", "first"},
      {"{{- (index .Extra \"groups\") | join \",\" -}}", "admin,dev"},
      {"{{ .Extra.groups }}", "[admin dev]"},
      {"{{ .Extra.nested }}", "map[big:1.5e+06 bool:true float:3.14159 int:10]"},
  };
  for (const auto& test : cases) EXPECT_EQ(render(test.source), test.expected) << test.source;
}

TEST(Template, ControlStructures) {
  const Case cases[] = {
      {"{{ if .Subject }}yes{{ else }}no{{ end }}", "yes"},
      {"{{ if .Extra.empty }}yes{{ else }}no{{ end }}", "no"},
      {"{{ if .Extra.count }}a{{ else if .Extra.name }}b{{ else }}c{{ end }}", "b"},
      {"{{ if eq .Subject \"bob\" }}a{{ else if eq .Subject \"carol\" }}b{{ else }}c{{ end }}", "c"},
      {"{{ range .Extra.groups }}[{{ . }}]{{ end }}", "[admin][dev]"},
      {"{{ range $i, $g := .Extra.groups }}{{ $i }}={{ $g }};{{ end }}", "0=admin;1=dev;"},
      {"{{ range $k, $v := .Extra.nested }}{{ $k }} {{ end }}", "big bool float int "},
      {"{{ range .Extra.none }}x{{ else }}empty{{ end }}", "empty"},
      {"{{ range .Extra.groups }}{{ if eq . \"admin\" }}{{ continue }}{{ end }}{{ . }}{{ end }}", "dev"},
      {"{{ range .Extra.groups }}{{ . }}{{ break }}{{ end }}", "admin"},
      {"{{ with .Extra.name }}hi {{ . }}{{ end }}", "hi Alice"},
      {"{{ with .Extra.missing }}x{{ else }}none{{ end }}", "none"},
      {"{{ $x := .Subject }}{{ $x = upper $x }}{{ $x }}", "ALICE"},
      {"{{ range $i, $g := ($l := .Extra.groups) }}{{ $i }}{{ $g }}{{ len $l }}{{ end }}", "0admin21dev2"},
      {"{{ range .Extra.groups }}{{ $.Subject }}{{ end }}", "alicealice"},
      {"a  {{- /* comment */ -}}  b", "ab"},
      {"a {{/* comment */}} b", "a  b"},
      {"x\n  {{- .Subject }}\n", "xalice\n"},
      {"{{ .Subject -}}  \n  !", "alice!"},
  };
  for (const auto& test : cases) EXPECT_EQ(render(test.source), test.expected) << test.source;
}

TEST(Template, Functions) {
  const Case cases[] = {
      {"{{ len .Extra.groups }}", "2"},
      {"{{ printf \"%s-%d-%v-%q-%x-%%\" \"a\" 5 true \"b\" \"hi\" }}", "a-5-true-\"b\"-6869-%"},
      {"{{ printf \"%05d|%-4s|\" 42 \"ab\" }}", "00042|ab  |"},
      {"{{ printf \"%d\" }}", "%!d(MISSING)"},
      {"{{ println \"a\" 1 }}", "a 1\n"},
      {"{{ urlquery \"a b&c\" }}", "a+b%26c"},
      {"{{ html \"<a href='x'>&\" }}", "&lt;a href=&#39;x&#39;&gt;&amp;"},
      {"{{ js \"it's <b>\" }}", "it\\'s \\u003Cb\\u003E"},
      {"{{ slice \"abcdef\" 1 3 }}", "bc"},
      {"{{ slice .Extra.groups 1 }}", "[dev]"},
      {"{{ and 1 0 2 }}|{{ or 0 \"\" \"x\" }}|{{ not 0 }}", "0|x|true"},
      {"{{ and false (index .Extra.groups 9) }}", "false"},
      {"{{ lt 1 2 }}{{ le 2 2 }}{{ gt 1 2 }}{{ ge \"b\" \"a\" }}{{ ne 1 2 }}{{ eq 1 3 2 1 }}", "truetruefalsetruetruetrue"},
      {"{{ eq .Extra.nested.int 10 }}", "true"},
      {"{{ default \"anon\" .Extra.missing }}|{{ .Subject | default \"anon\" }}", "anon|alice"},
      {"{{ upper \"ab\" }}{{ lower \"CD\" }}{{ trim \"  e  \" }}", "ABcde"},
      {"{{ trimPrefix \"pre-\" \"pre-x\" }}{{ trimSuffix \"-suf\" \"y-suf\" }}", "xy"},
      {"{{ replace \"a\" \"o\" \"banana\" }}", "bonono"},
      {"{{ (split \",\" \"a,b\")._1 }}|{{ splitList \",\" \"a,b\" }}", "b|[a b]"},
      {"{{ contains \"ell\" \"hello\" }}{{ hasPrefix \"he\" \"hello\" }}{{ hasSuffix \"x\" \"hello\" }}", "truetruefalse"},
      {"{{ b64enc \"hello\" }}|{{ b64dec \"aGVsbG8=\" }}|{{ b64dec \"*\" }}", "aGVsbG8=|hello|illegal base64 data at input byte 0"},
      {"{{ toJson .Extra.nested }}", "{\"big\":1500000,\"bool\":true,\"float\":3.14159,\"int\":10}"},
      {"{{ toJson \"<&>\" }}", "\"\\u003c\\u0026\\u003e\""},
      {"{{ quote \"a\" 1 }}|{{ squote \"b\" }}", "\"a\" \"1\"|'b'"},
      {"{{ add 1 2 3 }} {{ sub 5 2 }} {{ mul 2 3 }} {{ div 7 2 }} {{ mod 7 2 }} {{ int \"42\" }} {{ add 1.9 1 }}", "6 3 6 3 1 42 2"},
      {"{{ toString 5 }}{{ hasKey .Extra \"name\" }}{{ get .Extra \"name\" }}", "5trueAlice"},
      {"{{ dig \"nested\" \"int\" \"none\" .Extra }}|{{ dig \"nested\" \"x\" \"none\" .Extra }}", "10|none"},
      {"{{ coalesce .Extra.missing .Extra.empty \"c\" }}|{{ ternary \"y\" \"n\" true }}", "c|y"},
      {"{{ empty .Extra.empty }}{{ empty .Subject }}", "truefalse"},
      {"{{ list 1 \"a\" }}|{{ (dict \"k\" \"v\").k }}|{{ index (list 1 2) 1 }}", "[1 a]|v|2"},
      {"{{ print 'a' }}|{{ print 0x10 }}|{{ print 1.5e3 }}|{{ print `raw\\n` }}", "97|16|1500|raw\\n"},
  };
  for (const auto& test : cases) EXPECT_EQ(render(test.source), test.expected) << test.source;
}

TEST(Template, RenderErrors) {
  EXPECT_NE(render_error("{{ index .MatchContext.RegexpCaptureGroups 5 }}").find("index out of range: 5"),
            std::string::npos);
  EXPECT_NE(render_error("{{ .Subject.name }}").find("can't evaluate field name in type string"), std::string::npos);
  EXPECT_NE(render_error("{{ join \",\" }}").find("wrong number of args for join"), std::string::npos);
  EXPECT_NE(render_error("{{ div 1 0 }}").find("integer divide by zero"), std::string::npos);
  EXPECT_NE(render_error("{{ lt 1 \"a\" }}").find("incompatible types"), std::string::npos);
  EXPECT_NE(render_error("{{ .Extra.name \"arg\" }}").find("not a method"), std::string::npos);
  EXPECT_NE(render_error("{{ range .Subject }}{{ end }}").find("can't iterate"), std::string::npos);
  EXPECT_EQ(render_error("{{ print .Subject }}\n  {{ index .Extra.groups 9 }}").substr(0, 14), "template: 2:6:");
}

TEST(Template, CompileErrorsNamePosition) {
  EXPECT_EQ(compile_error("ab {{ .Subject "), "template: 1:4: unclosed action");
  EXPECT_EQ(compile_error("{{ env \"HOME\" }}"), "template: 1:4: function \"env\" not defined");
  EXPECT_EQ(compile_error("x\n{{ expandenv \"$HOME\" }}"), "template: 2:4: function \"expandenv\" not defined");
  EXPECT_EQ(compile_error("{{ Invalid Template }}"), "template: 1:4: function \"Invalid\" not defined");
  EXPECT_NE(compile_error("{{ if .Subject }}x").find("unexpected EOF"), std::string::npos);
  EXPECT_NE(compile_error("{{ end }}").find("unexpected {{end}}"), std::string::npos);
  EXPECT_NE(compile_error("{{ $x }}").find("undefined variable \"$x\""), std::string::npos);
  EXPECT_NE(compile_error("{{ \"abc }}").find("unterminated quoted string"), std::string::npos);
  EXPECT_NE(compile_error("{{ (print 1 }}").find("unclosed left paren"), std::string::npos);
  EXPECT_NE(compile_error("{{ break }}").find("outside {{range}}"), std::string::npos);
  EXPECT_NE(compile_error("{{ 1x }}").find("bad number syntax"), std::string::npos);
  EXPECT_NE(compile_error("{{ define \"x\" }}{{ end }}").find("not supported"), std::string::npos);
  EXPECT_NE(compile_error("{{ }}").find("missing value"), std::string::npos);
  EXPECT_NE(compile_error("{{/* open }}").find("unclosed comment"), std::string::npos);
  EXPECT_NE(compile_error("{{ '\xe0\x80\x80\x80\x80\x80' }}").find("malformed character constant"), std::string::npos);
  EXPECT_NE(compile_error("{{ " + std::string(200, '(') + "1" + std::string(200, ')') + " }}").find("nesting too deep"),
            std::string::npos);
}

TEST(Template, OutputLimit) {
  json::value data = {{"big", std::string(300 * 1024, 'x')}};
  EXPECT_EQ(render("{{ .big }}{{ .big }}{{ .big }}", data).size(), 900u * 1024);
  EXPECT_NE(render_error("{{ .big }}{{ .big }}{{ .big }}{{ .big }}", data).find("output exceeds 1048576 bytes"),
            std::string::npos);
}

TEST(Template, StringFunctionLimit) {
  json::value data = {{"big", std::string(600 * 1024, 'x')}};
  EXPECT_NE(render_error("{{ replace \"x\" \"yy\" .big }}", data).find("error calling replace"), std::string::npos);
  EXPECT_FALSE(Template::compile("{{ printf \"%99999999d\" 1 | len }}").render(data).has_value());
}

TEST(Template, RangeIterationLimit) {
  json::array items;
  for (int i = 0; i < 1000; ++i) items.push_back(i);
  json::value data = {{"items", items}};
  EXPECT_NE(render_error("{{ range .items }}{{ range $.items }}{{ end }}{{ end }}x", data)
                .find("range iterations exceed 100000"),
            std::string::npos);
  EXPECT_EQ(render("{{ range .items }}{{ range slice $.items 0 99 }}{{ end }}{{ end }}x", data), "x");
}

TEST(Template, SharedTemplateRendersConcurrently) {
  const Template compiled = Template::compile("{{ .Subject }}-{{ range .Extra.groups }}{{ . }}{{ end }}");
  json::value data = session();
  std::vector<std::thread> threads;
  std::vector<std::string> results(4);
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < 200; ++n) results[i] = compiled.render(data).value();
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& result : results) EXPECT_EQ(result, "alice-admindev");
  EXPECT_EQ(compiled.source(), "{{ .Subject }}-{{ range .Extra.groups }}{{ . }}{{ end }}");
}

TEST(TemplateDataUse, FieldChainsAtTopLevel) {
  const DataUse use = Template::compile("{{ .Subject }} {{ .MatchContext.URL.Path }} {{ .Extra.name }}").data_use();
  EXPECT_FALSE(use.everything);
  EXPECT_TRUE(use.reads("Subject"));
  EXPECT_TRUE(use.reads("Extra"));
  EXPECT_TRUE(use.reads("MatchContext"));
  EXPECT_TRUE(use.reads("MatchContext", "URL"));
  EXPECT_FALSE(use.reads("MatchContext", "Header"));
  EXPECT_FALSE(use.reads("Header"));
}

TEST(TemplateDataUse, WholeMemberReadsEveryChild) {
  const DataUse use = Template::compile("{{ with .MatchContext }}{{ .Method }}{{ end }}").data_use();
  EXPECT_FALSE(use.everything);
  EXPECT_TRUE(use.reads("MatchContext", "Header"));
  EXPECT_TRUE(use.reads("MatchContext", "Method"));
  EXPECT_FALSE(use.reads("Subject"));
}

TEST(TemplateDataUse, DotInsideRangeIsNotTheData) {
  const DataUse use = Template::compile("{{ range .Extra.groups }}{{ . }}{{ .Subject }}{{ end }}").data_use();
  EXPECT_FALSE(use.everything);
  EXPECT_TRUE(use.reads("Extra"));
  EXPECT_FALSE(use.reads("Subject"));
}

TEST(TemplateDataUse, RootVariableAndBareDotReadEverything) {
  EXPECT_TRUE(Template::compile("{{ . }}").data_use().everything);
  EXPECT_TRUE(Template::compile("{{ $x := . }}{{ $x.Subject }}").data_use().everything);
  EXPECT_TRUE(Template::compile("{{ range .Extra.groups }}{{ $ }}{{ end }}").data_use().everything);
  EXPECT_TRUE(Template::compile("{{ if true }}{{ printf \"%v\" . }}{{ end }}").data_use().everything);
}

TEST(TemplateDataUse, RootVariableChainInsideWith) {
  const DataUse use = Template::compile("{{ with .Extra }}{{ $.Subject }}{{ else }}{{ .Header }}{{ end }}").data_use();
  EXPECT_FALSE(use.everything);
  EXPECT_TRUE(use.reads("Extra"));
  EXPECT_TRUE(use.reads("Subject"));
  EXPECT_TRUE(use.reads("Header"));
  EXPECT_FALSE(use.reads("MatchContext"));
}

TEST(TemplateDataUse, SubPipelinesAndFunctionArguments) {
  const DataUse use =
      Template::compile("{{ (index .MatchContext.RegexpCaptureGroups 0) }}{{ upper (print .Subject) }}").data_use();
  EXPECT_TRUE(use.reads("MatchContext", "RegexpCaptureGroups"));
  EXPECT_TRUE(use.reads("Subject"));
  EXPECT_FALSE(use.reads("MatchContext", "URL"));
}

TEST(TemplateDataUse, MergeKeepsEveryPart) {
  DataUse use = Template::compile("{{ .Subject }}").data_use();
  use.merge(Template::compile("{{ .MatchContext.Header.Get \"x\" }}").data_use());
  EXPECT_TRUE(use.reads("Subject"));
  EXPECT_TRUE(use.reads("MatchContext", "Header"));
  EXPECT_FALSE(use.reads("MatchContext", "URL"));
  use.merge(Template::compile("{{ . }}").data_use());
  EXPECT_TRUE(use.everything);
}

}  // namespace
}  // namespace gh::text
