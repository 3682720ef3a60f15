#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/beast/core/detail/base64.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "rules/repository.h"

namespace gh::rules {
namespace {

namespace fs = std::filesystem;

std::string one_rule(std::string_view id) {
  return fmt::format(R"([{{"id": "{}", "match": {{"url": "https://x.test/{}", "methods": ["GET"]}}}}])", id, id);
}

std::string base64(std::string_view text) {
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::encoded_size(text.size()), '\0');
  out.resize(b64::encode(out.data(), text.data(), text.size()));
  return out;
}

void write_file(const fs::path& path, std::string_view text) {
  std::ofstream file(path, std::ios::trunc);
  file << text;
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("gh-rules-{}-{}", ::getpid(), counter_++);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  static inline int counter_ = 0;
};

using LoadRepository = TempDir;

TEST_F(LoadRepository, ReadsFileUrlsAndPaths) {
  const fs::path file = dir_ / "rules.json";
  write_file(file, one_rule("from-file"));

  for (const std::string& url : {"file://" + file.string(), file.string()}) {
    auto rules = load_repository(url);
    ASSERT_TRUE(rules.has_value()) << rules.error();
    ASSERT_EQ(rules->size(), 1u);
    EXPECT_EQ((*rules)[0].id, "from-file");
  }
}

TEST_F(LoadRepository, ReadsRelativeFileUrl) {
  const fs::path previous = fs::current_path();
  write_file(dir_ / "relative.yaml", "- id: relative\n");
  fs::current_path(dir_);
  auto rules = load_repository("file://relative.yaml");
  fs::current_path(previous);
  ASSERT_TRUE(rules.has_value()) << rules.error();
  EXPECT_EQ((*rules)[0].id, "relative");
}

TEST_F(LoadRepository, MissingFileIsAnError) {
  const std::string url = "file://" + (dir_ / "absent.json").string();
  auto rules = load_repository(url);
  ASSERT_FALSE(rules.has_value());
  EXPECT_NE(rules.error().find(url), std::string::npos) << rules.error();
}

TEST(LoadRepositoryInline, DecodesBase64) {
  auto rules = load_repository("inline://" + base64("- id: inline-rule\n  match:\n    url: https://x.test/\n"));
  ASSERT_TRUE(rules.has_value()) << rules.error();
  ASSERT_EQ(rules->size(), 1u);
  EXPECT_EQ((*rules)[0].id, "inline-rule");
}

TEST(LoadRepositoryInline, RejectsBadBase64) {
  const std::string encoded = base64(one_rule("a"));
  for (const std::string& text : {std::string("not base64!"), encoded.substr(0, encoded.size() - 1), std::string("ab=c")}) {
    auto rules = load_repository("inline://" + text);
    ASSERT_FALSE(rules.has_value()) << text;
    EXPECT_NE(rules.error().find("invalid base64"), std::string::npos) << rules.error();
  }
}

TEST(LoadRepositoryInline, ReportsInvalidRules) {
  auto rules = load_repository("inline://" + base64(R"([{"id": "bad", "version": "42"}])"));
  ASSERT_FALSE(rules.has_value());
  EXPECT_NE(rules.error().find("id \"bad\""), std::string::npos) << rules.error();
}

TEST(LoadRepositorySchemes, RemoteIsNotSupportedYet) {
  for (const char* url : {"http://127.0.0.1:1/rules.json", "https://127.0.0.1:1/rules.json"}) {
    auto rules = load_repository(url);
    ASSERT_FALSE(rules.has_value());
    EXPECT_NE(rules.error().find("not supported yet"), std::string::npos) << rules.error();
  }
}

TEST(LoadRepositorySchemes, UnknownSchemeIsAnError) {
  for (const char* url : {"ftp://not-valid", "s3://bucket/rules.json"}) {
    auto rules = load_repository(url);
    ASSERT_FALSE(rules.has_value());
    EXPECT_NE(rules.error().find("unknown scheme"), std::string::npos) << rules.error();
  }
}

// Collects listener calls and lets a test wait for a given rule list.
class RecordingListener {
 public:
  RepositoryWatcher::Listener listener() {
    return [this](std::vector<Rule> rules) {
      std::vector<std::string> ids;
      for (const Rule& rule : rules) ids.push_back(rule.id);
      std::lock_guard lock(mutex_);
      last_ = std::move(ids);
      ++calls_;
      changed_.notify_all();
    };
  }

  bool wait_for(const std::vector<std::string>& ids) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return last_ == ids; });
  }

  std::vector<std::string> last() {
    std::lock_guard lock(mutex_);
    return last_;
  }
  int calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> last_;
  int calls_ = 0;
};

// Rejects rule sets that contain a rule with the id "rejected".
std::vector<std::string> reject_marked(const std::vector<Rule>& rules) {
  std::vector<std::string> problems;
  for (const Rule& rule : rules) {
    if (rule.id == "rejected") problems.push_back("rule \"rejected\" is not allowed");
  }
  return problems;
}

using RepositoryWatcherTest = TempDir;

TEST_F(RepositoryWatcherTest, ConcatenatesInRepositoryOrder) {
  RecordingListener recorder;
  RepositoryWatcher watcher(reject_marked, recorder.listener());
  write_file(dir_ / "a.json", one_rule("a"));

  const auto errors = watcher.set_repositories({"inline://" + base64(one_rule("b")), (dir_ / "a.json").string(),
                                                "file://" + (dir_ / "missing.json").string()});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("missing.json"), std::string::npos) << errors[0];
  EXPECT_EQ(recorder.last(), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(recorder.calls(), 1);

  EXPECT_TRUE(watcher.set_repositories({(dir_ / "a.json").string()}).empty());
  EXPECT_EQ(recorder.last(), (std::vector<std::string>{"a"}));
}

TEST_F(RepositoryWatcherTest, ValidatorRejectsRepository) {
  RecordingListener recorder;
  RepositoryWatcher watcher(reject_marked, recorder.listener());
  const auto errors = watcher.set_repositories({"inline://" + base64(one_rule("rejected"))});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("not allowed"), std::string::npos) << errors[0];
  EXPECT_TRUE(recorder.last().empty());
}

TEST_F(RepositoryWatcherTest, ReloadsChangedFile) {
  const fs::path file = dir_ / "rules.json";
  write_file(file, "[]");
  RecordingListener recorder;
  RepositoryWatcher watcher(reject_marked, recorder.listener());
  ASSERT_TRUE(watcher.set_repositories({"file://" + file.string()}).empty());
  watcher.start();

  std::string rules = "[";
  std::vector<std::string> expected;
  for (int count = 1; count <= 3; ++count) {
    const std::string id = fmt::format("r{}", count);
    rules += fmt::format(R"({}{{"id": "{}"}})", count > 1 ? "," : "", id);
    expected.push_back(id);
    write_file(file, rules + "]");
    ASSERT_TRUE(recorder.wait_for(expected)) << count;
  }
}

TEST_F(RepositoryWatcherTest, KeepsOldRulesOnBadChange) {
  const fs::path file = dir_ / "rules.json";
  write_file(file, one_rule("good"));
  RecordingListener recorder;
  RepositoryWatcher watcher(reject_marked, recorder.listener());
  ASSERT_TRUE(watcher.set_repositories({file.string()}).empty());
  watcher.start();
  ASSERT_EQ(recorder.calls(), 1);

  write_file(file, R"([{"id": "broken", "match": 5}])");  // fails to decode
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  write_file(file, one_rule("rejected"));  // decodes, but the validator rejects it
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  fs::remove(file);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(recorder.calls(), 1);
  EXPECT_EQ(recorder.last(), (std::vector<std::string>{"good"}));

  write_file(file, one_rule("fixed"));
  EXPECT_TRUE(recorder.wait_for({"fixed"}));
}

}  // namespace
}  // namespace gh::rules
