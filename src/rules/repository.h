// Loading access rules from the repositories in access_rules.repositories, and watching them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "rules/rule.h"

namespace gh::rules {

// Reads one repository: file:///abs/path, file://relative/path, a bare path, or
// inline://<standard base64 of a JSON or YAML document>. The error names the URL and cause.
Expected<std::vector<Rule>, std::string> load_repository(std::string_view url);

// Keeps the rules of every repository and reloads a file repository when it changes on disk
// (watching the parent folder, so editors' rename-on-save and Kubernetes ConfigMap symlink
// swaps are seen). Each repository is all-or-nothing: a change that fails to load or that
// `validate` rejects is logged and that repository keeps its previous rules.
class RepositoryWatcher {
 public:
  // Returns the problems found in a candidate rule set (empty means accepted).
  using Validator = std::function<std::vector<std::string>(const std::vector<Rule>&)>;
  // Receives the accepted rules of every repository, concatenated in repository order. It runs
  // under the watcher's lock (on the caller's or the watcher's thread), so it must not call
  // back into the RepositoryWatcher.
  using Listener = std::function<void(std::vector<Rule>)>;

  RepositoryWatcher(Validator validate, Listener listener);
  ~RepositoryWatcher();

  // Replaces the set of repositories: loads new ones, drops removed ones and calls the
  // listener once. Returns the load errors (a missing file is an error but not fatal).
  std::vector<std::string> set_repositories(const std::vector<std::string>& urls);

  // Starts watching files on a background thread; changes call the listener.
  void start();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gh::rules
