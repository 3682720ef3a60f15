#include "pipeline/error.h"

#include <cctype>

#include <fmt/format.h>

namespace gh::pipeline {

Error unauthorized(std::string reason) {
  return Error{401, "Access credentials are invalid", std::move(reason), {}, {}};
}

Error forbidden(std::string reason) {
  return Error{403, "Access credentials are not sufficient to access this resource",
               std::move(reason), {}, {}};
}

Error not_found(std::string message, std::string reason) {
  return Error{404, std::move(message), std::move(reason), {}, {}};
}

Error internal_error(std::string message, std::string reason) {
  return Error{500, std::move(message), std::move(reason), {}, {}};
}

Error misconfigured(std::string_view kind, std::string reason) {
  return Error{500, fmt::format("{} matching this route is misconfigured or disabled", kind),
               std::move(reason), {}, {}};
}

std::string_view status_text(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

std::string error_name(int status) {
  std::string name;
  for (char c : status_text(status)) {
    if (c == '\'') continue;
    name += c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return name;
}

}  // namespace gh::pipeline
