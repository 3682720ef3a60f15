#include "oauth2/storage/postgres.h"

#include <libpq-fe.h>

#include <condition_variable>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "oauth2/storage/sql_storage.h"

namespace gh::oauth2 {
namespace {

constexpr std::string_view kUniqueViolation = "23505";  // SQLSTATE unique_violation

struct ResultFree {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultFree>;

// libpq's own messages end with a newline; logs read better without it.
std::string trimmed_message(const char* message) {
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

class PostgresConnection final : public SqlConnection {
 public:
  explicit PostgresConnection(PGconn* connection) : connection_(connection) {}
  ~PostgresConnection() override { PQfinish(connection_); }

  StorageResult<SqlResult> run(std::string_view sql, const std::vector<SqlParam>& params) override {
    // A connection lost between two calls (server restart, idle timeout) is reopened once.
    if (PQstatus(connection_) != CONNECTION_OK) PQreset(connection_);

    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (const auto* text = std::get_if<std::string>(&params[i])) {
        texts[i] = *text;
      } else if (const auto* number = std::get_if<int64_t>(&params[i])) {
        texts[i] = std::to_string(*number);
      } else {
        continue;  // NULL
      }
      values[i] = texts[i].c_str();
    }

    std::string statement(sql);
    Result result(PQexecParams(connection_, statement.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                               nullptr, nullptr, 0));
    ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      const char* state = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
      auto code = state && kUniqueViolation == state ? StorageError::Code::conflict : StorageError::Code::failed;
      return gh::Unexpected(StorageError{code, "postgres: " + trimmed_message(PQerrorMessage(connection_))});
    }

    SqlResult out;
    int rows = PQntuples(result.get());
    int columns = PQnfields(result.get());
    for (int row = 0; row < rows; ++row) {
      SqlRow values_of_row;
      for (int column = 0; column < columns; ++column) {
        if (PQgetisnull(result.get(), row, column)) {
          values_of_row.emplace_back(std::nullopt);
        } else {
          values_of_row.emplace_back(std::string(PQgetvalue(result.get(), row, column),
                                                 static_cast<std::size_t>(PQgetlength(result.get(), row, column))));
        }
      }
      out.rows.push_back(std::move(values_of_row));
    }
    const char* affected = PQcmdTuples(result.get());
    out.affected = affected && *affected ? std::stoll(affected) : 0;
    return out;
  }

 private:
  PGconn* connection_;
};

class PostgresStorage final : public SqlStorage {
 public:
  explicit PostgresStorage(std::vector<std::unique_ptr<PostgresConnection>> connections)
      : idle_(std::move(connections)) {}

 protected:
  SqlDialect dialect() const override { return SqlDialect::postgres; }

  StorageResult<SqlResult> with_connection(const std::function<StorageResult<SqlResult>(SqlConnection&)>& body) override {
    std::unique_ptr<PostgresConnection> connection;
    {
      std::unique_lock lock(mutex_);
      available_.wait(lock, [&] { return !idle_.empty(); });
      connection = std::move(idle_.back());
      idle_.pop_back();
    }
    auto result = body(*connection);
    {
      std::lock_guard lock(mutex_);
      idle_.push_back(std::move(connection));
    }
    available_.notify_one();
    return result;
  }

 private:
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<PostgresConnection>> idle_;
};

gh::Expected<std::unique_ptr<PostgresConnection>, std::string> connect(const std::string& url) {
  PGconn* connection = PQconnectdb(url.c_str());
  if (!connection || PQstatus(connection) != CONNECTION_OK) {
    std::string message = connection ? trimmed_message(PQerrorMessage(connection)) : "out of memory";
    PQfinish(connection);
    return gh::Unexpected(message);
  }
  return std::make_unique<PostgresConnection>(connection);
}

}  // namespace

gh::Expected<std::unique_ptr<Storage>, std::string> open_postgres(const std::string& url, std::size_t connections) {
  std::vector<std::unique_ptr<PostgresConnection>> pool;
  for (std::size_t i = 0; i < std::max<std::size_t>(1, connections); ++i) {
    auto connection = connect(url);
    if (!connection) return gh::Unexpected(fmt::format("cannot connect to PostgreSQL: {}", connection.error()));
    pool.push_back(std::move(*connection));
  }
  return std::unique_ptr<Storage>(std::make_unique<PostgresStorage>(std::move(pool)));
}

}  // namespace gh::oauth2
