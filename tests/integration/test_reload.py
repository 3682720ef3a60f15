"""End-to-end tests of live reloads of the access rules file and the config file."""

import json
import unittest

from fixtures.setups import ANY_HOST, base_config, header_mutator, rule
from harness import Gatehouse, header_values, http, wait_until

UPSTREAM = "http://127.0.0.1:9"
RELOAD_SECONDS = 5.0


def wait_for_new_log(gatehouse: Gatehouse, text: str, seen_before: int) -> str:
    """Wait until text occurs in the log more than seen_before times, and return the log."""
    return wait_until(
        lambda: gatehouse.logs() if gatehouse.logs().count(text) > seen_before else "",
        timeout=RELOAD_SECONDS, description=f"a new log line containing {text!r}")


def rewrite_config(gatehouse: Gatehouse, change) -> None:
    """Load the config file the harness wrote, apply change(config) and write it back."""
    path = gatehouse.config_paths[0]
    with open(path) as source:
        config = json.load(source)
    change(config)
    gatehouse.write_file_atomically(path, json.dumps(config, indent=2))


class RulesReloadTest(unittest.TestCase):
    def setUp(self):
        self.rules = [
            rule("door", f"http://{ANY_HOST}/door", UPSTREAM),
            rule("hall", f"http://{ANY_HOST}/hall", UPSTREAM),
        ]
        self.gatehouse = Gatehouse(base_config(), self.rules).__enter__()
        self.addCleanup(self.gatehouse.__exit__, None, None, None)

    def decide(self, path):
        return http("GET", self.gatehouse.api_url + "/decisions" + path)[0]

    def assert_running_rules_kept(self):
        self.assertEqual(self.decide("/door"), 200)
        self.assertEqual(self.decide("/hall"), 200)

    def test_changed_rule_takes_effect(self):
        self.assertEqual(self.decide("/door"), 200)
        self.rules[0]["authorizer"] = {"handler": "deny"}
        self.gatehouse.write_rules(self.rules)
        wait_until(lambda: self.decide("/door") == 403, timeout=RELOAD_SECONDS,
                   description="the deny authorizer applies")
        self.assertEqual(self.decide("/hall"), 200)

    def test_added_and_removed_rules(self):
        self.gatehouse.write_rules([self.rules[0], rule("attic", f"http://{ANY_HOST}/attic",
                                                        UPSTREAM)])
        wait_until(lambda: self.decide("/attic") == 200, timeout=RELOAD_SECONDS,
                   description="the new rule applies")
        self.assertEqual(self.decide("/hall"), 404)
        listed = json.loads(http("GET", self.gatehouse.api_url + "/rules")[2])
        self.assertEqual(sorted(item["id"] for item in listed), ["attic", "door"])

    def test_bad_json_rejected(self):
        before = self.gatehouse.logs().count("not accepted")
        self.gatehouse.write_file_atomically(self.gatehouse.rules_path, '[{"id": "door", ')
        wait_for_new_log(self.gatehouse, "not accepted", before)
        self.assert_running_rules_kept()

    def test_bad_pattern_rejected_and_named(self):
        before = self.gatehouse.logs().count("not accepted")
        broken = [self.rules[0], rule("broken-pattern", f"http://{ANY_HOST}/x/<[a-z>", UPSTREAM)]
        self.gatehouse.write_rules(broken)
        logs = wait_for_new_log(self.gatehouse, "not accepted", before)
        line = [entry for entry in logs.splitlines() if "not accepted" in entry][-1]
        self.assertIn("broken-pattern", line)
        self.assertIn("<[a-z>", line)
        self.assert_running_rules_kept()

    def test_unknown_handler_rejected_and_named(self):
        before = self.gatehouse.logs().count("not accepted")
        unknown = rule("odd-handler", f"http://{ANY_HOST}/odd", UPSTREAM,
                       authenticators=["no_such_authenticator"])
        self.gatehouse.write_rules([self.rules[0], unknown])
        logs = wait_for_new_log(self.gatehouse, "not accepted", before)
        line = [entry for entry in logs.splitlines() if "not accepted" in entry][-1]
        self.assertIn("odd-handler", line)
        self.assertIn("no_such_authenticator", line)
        self.assert_running_rules_kept()
        self.assertEqual(self.decide("/odd"), 404)

    def test_valid_rules_after_rejected_ones_apply(self):
        before = self.gatehouse.logs().count("not accepted")
        self.gatehouse.write_file_atomically(self.gatehouse.rules_path, "not json at all")
        wait_for_new_log(self.gatehouse, "not accepted", before)
        self.rules[1]["authorizer"] = {"handler": "deny"}
        self.gatehouse.write_rules(self.rules)
        wait_until(lambda: self.decide("/hall") == 403, timeout=RELOAD_SECONDS,
                   description="the rules written after a rejected file apply")


class ConfigReloadTest(unittest.TestCase):
    def setUp(self):
        rules = [
            rule("letters", "http://reload.test/<ab?>", UPSTREAM),
            rule("user", f"http://{ANY_HOST}/user", UPSTREAM,
                 mutators=[header_mutator({"X-User": "{{ print .Subject }}"})]),
        ]
        self.gatehouse = Gatehouse(base_config(), rules).__enter__()
        self.addCleanup(self.gatehouse.__exit__, None, None, None)

    def decide(self, path, host=None):
        headers = {"X-Forwarded-Host": host} if host else None
        return http("GET", self.gatehouse.api_url + "/decisions" + path, headers)

    def subject(self):
        status, headers, _ = self.decide("/user")
        self.assertEqual(status, 200)
        return header_values(headers, "X-User")

    def test_matching_strategy_switch_applies(self):
        # "<ab?>" means "a" or "ab" as a regexp, but "ab" and one more character as a glob.
        self.assertEqual(self.decide("/a", "reload.test")[0], 200)
        self.assertEqual(self.decide("/abc", "reload.test")[0], 404)
        rewrite_config(self.gatehouse,
                       lambda config: config.setdefault("access_rules", {}).update(
                           {"matching_strategy": "glob"}))
        wait_until(lambda: self.decide("/abc", "reload.test")[0] == 200, timeout=RELOAD_SECONDS,
                   description="the glob strategy applies")
        self.assertEqual(self.decide("/a", "reload.test")[0], 404)

    def test_handler_config_change_applies(self):
        self.assertEqual(self.subject(), ["guest"])
        rewrite_config(self.gatehouse, lambda config: config["authenticators"]["anonymous"]
                       ["config"].update({"subject": "visitor"}))
        wait_until(lambda: self.subject() == ["visitor"], timeout=RELOAD_SECONDS,
                   description="the new anonymous subject applies")

    def test_invalid_config_rejected(self):
        before = self.gatehouse.logs().count("config reload rejected")

        def break_config(config):
            config["authenticators"]["anonymous"]["config"]["subject"] = "visitor"
            config["serve"]["proxy"]["timeout"] = {"read": "soon"}
            config["no_such_section"] = {"key": 1}

        rewrite_config(self.gatehouse, break_config)
        logs = wait_for_new_log(self.gatehouse, "config reload rejected", before)
        self.assertIn("no_such_section", logs)
        self.assertIn("serve.proxy.timeout.read", logs)
        self.assertEqual(self.subject(), ["guest"])

    def test_disabling_used_handler_keeps_running_config(self):
        # Rules are checked against the config at load, so a config that disables a handler the
        # loaded rules use is rejected as a whole rather than failing those requests later.
        before = self.gatehouse.logs().count("config reload rejected")

        def disable_header_mutator(config):
            config["authenticators"]["anonymous"]["config"]["subject"] = "visitor"
            config["mutators"]["header"]["enabled"] = False

        rewrite_config(self.gatehouse, disable_header_mutator)
        logs = wait_for_new_log(self.gatehouse, "config reload rejected", before)
        problems = [line for line in logs.splitlines()
                    if '"user"' in line and '"header"' in line and "disabled" in line]
        self.assertTrue(problems, logs)
        self.assertEqual(self.subject(), ["guest"])


if __name__ == "__main__":
    unittest.main()
