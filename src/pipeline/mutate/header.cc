#include "pipeline/mutate/header.h"

#include <utility>
#include <vector>

#include <fmt/format.h>

#include "text/template.h"

namespace gh::pipeline::mutate {
namespace {

struct HeaderTemplate {
  std::string name;
  text::Template value;
};

class Header final : public Mutator {
 public:
  explicit Header(std::vector<HeaderTemplate> headers) : headers_(std::move(headers)) {
    for (const HeaderTemplate& header : headers_) data_use_.merge(header.value.data_use());
  }

  boost::asio::awaitable<StepResult> mutate(const Request& request,
                                            Session& session) const override {
    if (headers_.empty()) co_return StepResult();

    boost::json::value data = template_data(request, session, data_use_);
    for (const HeaderTemplate& header : headers_) {
      Expected<std::string, std::string> value = header.value.render(data);
      if (!value) {
        co_return Unexpected{internal_error(
            fmt::format("header mutator could not render the template for header \"{}\"",
                        header.name),
            value.error())};
      }
      if (!http::is_safe_field_value(*value)) {
        co_return Unexpected{internal_error(
            fmt::format("header mutator rendered a value with CR, LF or NUL for header \"{}\"",
                        header.name))};
      }
      session.set_header(header.name, std::move(*value));
    }
    co_return StepResult();
  }

 private:
  std::vector<HeaderTemplate> headers_;
  text::DataUse data_use_;  // the data parts that any of the templates reads
};

}  // namespace

Expected<std::shared_ptr<const Mutator>, std::string> make_header(const boost::json::object& config) {
  const boost::json::value* headers = config.if_contains("headers");
  if (headers == nullptr || !headers->is_object()) {
    return Unexpected{std::string("headers: missing; expected an object of header names to templates")};
  }

  std::vector<HeaderTemplate> compiled;
  for (const auto& [name, source] : headers->as_object()) {
    if (!http::is_token(name)) {
      return Unexpected{fmt::format("headers: \"{}\" is not a valid header name", std::string_view(name))};
    }
    if (!source.is_string()) {
      return Unexpected{fmt::format("headers.{}: expected a template string", std::string_view(name))};
    }
    try {
      compiled.push_back({http::canonical_header_name(name),
                          text::Template::compile(source.as_string())});
    } catch (const text::TemplateError& error) {
      return Unexpected{fmt::format("headers.{}: invalid template: {}", std::string_view(name), error.what())};
    }
  }
  return std::shared_ptr<const Mutator>(std::make_shared<Header>(std::move(compiled)));
}

}  // namespace gh::pipeline::mutate
