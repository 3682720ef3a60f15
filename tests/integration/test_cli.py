"""End-to-end tests of the gatehouse command line."""

import json
import os
import subprocess
import unittest

from fixtures.setups import ANY_HOST, base_config, rule
from harness import Gatehouse, HarnessError, free_port, http

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "cli")
CONFIG_PREFIXES = ("SERVE_", "ACCESS_RULES_", "AUTHENTICATORS_", "AUTHORIZERS_", "MUTATORS_",
                   "ERRORS_", "LOG_")


def run_gatehouse(*arguments: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
    """Run the gatehouse binary in the CLI fixtures folder, so file://./ paths resolve there."""
    binary = os.environ.get("GATEHOUSE_BIN")
    if not binary:
        raise HarnessError("GATEHOUSE_BIN is not set: set it to the path of the built binary")
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith(CONFIG_PREFIXES)}
    return subprocess.run([binary, *arguments], cwd=FIXTURES, env=environment,
                          capture_output=True, text=True, timeout=timeout)


class VersionTest(unittest.TestCase):
    def test_version_prints_name_and_version(self):
        result = run_gatehouse("version")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r"^gatehouse v?\d+\.\d+\.\d+")


class ConfigValidateTest(unittest.TestCase):
    def test_good_config_passes(self):
        result = run_gatehouse("config", "validate", "-c", "good.yaml")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_every_problem_reported_with_path(self):
        result = run_gatehouse("config", "validate", "-c", "several-problems.yaml")
        output = result.stdout + result.stderr
        self.assertNotEqual(result.returncode, 0, output)
        self.assertIn("serve.proxy.colour", output)
        self.assertIn("serve.proxy.timeout.read", output)
        self.assertIn("serve.api.port", output)

    def test_problem_lines_are_separate(self):
        result = run_gatehouse("config", "validate", "-c", "several-problems.yaml")
        lines = (result.stdout + result.stderr).splitlines()
        for key in ("serve.proxy.colour", "serve.proxy.timeout.read", "serve.api.port"):
            self.assertEqual(len([line for line in lines if key in line]), 1, (key, lines))

    def test_bad_pattern_in_rules_names_rule(self):
        result = run_gatehouse("config", "validate", "-c", "bad-pattern.yaml")
        output = result.stdout + result.stderr
        self.assertNotEqual(result.returncode, 0, output)
        self.assertIn("unclosed-class", output)
        self.assertIn("<[a-z>", output)

    def test_unknown_handler_in_rules_names_rule(self):
        result = run_gatehouse("config", "validate", "-c", "unknown-handler.yaml")
        output = result.stdout + result.stderr
        self.assertNotEqual(result.returncode, 0, output)
        self.assertIn("mystery-authenticator", output)
        self.assertIn("crystal_ball", output)

    def test_missing_config_file_fails(self):
        result = run_gatehouse("config", "validate", "-c", "no-such-file.yaml")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("no-such-file.yaml", result.stdout + result.stderr)

    def test_serve_exits_on_invalid_config(self):
        result = run_gatehouse("serve", "-c", "several-problems.yaml")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("serve.api.port", result.stdout + result.stderr)

    def test_serve_refuses_listener_tls_and_remote_repositories(self):
        for command in (("serve", "-c", "unsupported-features.yaml"),
                        ("config", "validate", "-c", "unsupported-features.yaml")):
            with self.subTest(command=command[0]):
                result = run_gatehouse(*command)
                output = result.stdout + result.stderr
                self.assertEqual(result.returncode, 1, output)
                self.assertIn("serve.proxy.tls: gatehouse does not terminate TLS", output)
                self.assertIn('access_rules.repositories[1]: "https://": unsupported scheme', output)

    def test_serve_accepts_oathkeeper_arguments(self):
        result = run_gatehouse("serve", "proxy", "--disable-telemetry", "--sqa-opt-out",
                               "-c", "several-problems.yaml")
        output = result.stdout + result.stderr
        # Past argument parsing: the config is what stops it.
        self.assertEqual(result.returncode, 1, output)
        self.assertIn("serve.api.port", output)

    def test_serve_rejects_unknown_words(self):
        for arguments in (("serve", "--confg", "good.yaml"), ("serve", "proxyy", "-c", "good.yaml")):
            with self.subTest(arguments=arguments):
                result = run_gatehouse(*arguments)
                self.assertNotEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertNotIn("starting", result.stdout + result.stderr)


class EnvironmentOverrideTest(unittest.TestCase):
    def test_serve_proxy_port_from_environment(self):
        port = free_port()
        rules = [rule("public", f"http://{ANY_HOST}/<.*>", "http://127.0.0.1:9")]
        with Gatehouse(base_config(), rules, env={"SERVE_PROXY_PORT": str(port)}) as gatehouse:
            status, _, body = http("GET", f"http://127.0.0.1:{port}/unmatched",
                                   {"Authorization": "Bearer x"})
            with self.assertRaises(OSError):
                http("GET", gatehouse.proxy_url + "/unmatched", timeout=2)
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(body)["error"]["code"], 401)


class HealthCommandTest(unittest.TestCase):
    def test_alive_and_ready_with_rules(self):
        rules = [rule("public", f"http://{ANY_HOST}/<.*>", "http://127.0.0.1:9")]
        with Gatehouse(base_config(), rules) as gatehouse:
            alive = run_gatehouse("health", "--endpoint", gatehouse.api_url, "alive")
            ready = run_gatehouse("health", "--endpoint", gatehouse.api_url, "ready")
        self.assertEqual(alive.returncode, 0, alive.stdout + alive.stderr)
        self.assertEqual(ready.returncode, 0, ready.stdout + ready.stderr)

    def test_ready_fails_without_rules(self):
        with Gatehouse(base_config(), []) as gatehouse:
            alive = run_gatehouse("health", "--endpoint", gatehouse.api_url, "alive")
            ready = run_gatehouse("health", "--endpoint", gatehouse.api_url, "ready")
        self.assertEqual(alive.returncode, 0, alive.stdout + alive.stderr)
        self.assertNotEqual(ready.returncode, 0, ready.stdout + ready.stderr)

    def test_unreachable_endpoint_fails(self):
        result = run_gatehouse("health", "--endpoint", f"http://127.0.0.1:{free_port()}", "alive")
        self.assertNotEqual(result.returncode, 0)
        self.assertTrue(result.stderr.strip())


class CredentialsGenerateTest(unittest.TestCase):
    def generate(self, *arguments):
        result = run_gatehouse("credentials", "generate", *arguments)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def test_es256_private_key(self):
        keys = self.generate("--alg", "ES256")["keys"]
        self.assertEqual(len(keys), 1)
        key = keys[0]
        self.assertEqual(key["kty"], "EC")
        self.assertEqual(key["crv"], "P-256")
        self.assertEqual(key["alg"], "ES256")
        self.assertEqual(key["use"], "sig")
        for member in ("d", "x", "y", "kid"):
            self.assertTrue(key.get(member), member)

    def test_given_kid_used(self):
        key = self.generate("--alg", "ES256", "--kid", "signing-key-1")["keys"][0]
        self.assertEqual(key["kid"], "signing-key-1")

    def test_two_runs_give_different_keys(self):
        first = self.generate("--alg", "ES256")["keys"][0]
        second = self.generate("--alg", "ES256")["keys"][0]
        self.assertNotEqual(first["d"], second["d"])
        self.assertNotEqual(first["kid"], second["kid"])

    def test_unknown_alg_fails(self):
        result = run_gatehouse("credentials", "generate", "--alg", "XY999")
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(result.stdout.strip(), "")
        self.assertIn("XY999", result.stderr)


if __name__ == "__main__":
    unittest.main()
