#include "telemetry/log.h"

#include <chrono>
#include <memory>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace gh::telemetry {
namespace {

spdlog::level::level_enum parse_level(std::string_view level) {
  if (level == "trace") return spdlog::level::trace;
  if (level == "debug") return spdlog::level::debug;
  if (level == "warn") return spdlog::level::warn;
  if (level == "error") return spdlog::level::err;
  if (level == "fatal" || level == "panic") return spdlog::level::critical;
  return spdlog::level::info;
}

void append_json_escaped(std::string& out, std::string_view text) {
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

// One JSON object per line: {"time":…,"level":…,"msg":…}. spdlog's pattern language cannot
// escape the message, so this formatter writes the record itself.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = "{\"time\":\"";
    auto time = std::chrono::time_point_cast<std::chrono::milliseconds>(msg.time);
    line += fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", time);
    line += "\",\"level\":\"";
    spdlog::string_view_t level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += "\",\"msg\":\"";
    append_json_escaped(line, std::string_view(msg.payload.data(), msg.payload.size()));
    line += "\"}\n";
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

void configure_logging(std::string_view level, std::string_view format) {
  auto logger = std::make_shared<spdlog::logger>("gatehouse",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (format == "json" || format == "json_pretty" || format == "gelf") {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(parse_level(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

std::string sanitize_for_log(std::string_view input, size_t max_length) {
  std::string out;
  out.reserve(std::min(input.size(), max_length) + 8);
  for (size_t i = 0; i < input.size() && i < max_length; ++i) {
    auto c = static_cast<unsigned char>(input[i]);
    if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (input.size() > max_length) out += "...";
  return out;
}

}  // namespace gh::telemetry
