"""End-to-end tests of `gatehouse rules test`, which explains a decision without a server."""

import unittest

from test_cli import run_gatehouse


class RulesTestCommandTest(unittest.TestCase):
    def test_allowed_request_names_rule_and_captures(self):
        result = run_gatehouse("rules", "test", "-c", "good.yaml",
                               "--url", "http://shop.test/catalogue/books", "-H", "X-Trace: 7")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn('match: rule "catalogue"', result.stdout)
        self.assertIn("capture 0: shop.test", result.stdout)
        self.assertIn("capture 1: books", result.stdout)
        self.assertIn('decision: allowed, subject "guest"', result.stdout)
        self.assertIn("header X-Trace: 7", result.stdout)

    def test_denied_request_exits_three_with_body(self):
        result = run_gatehouse("rules", "test", "-c", "good.yaml",
                               "--url", "http://shop.test/catalogue/books",
                               "-H", "Authorization: Bearer abc")
        self.assertEqual(result.returncode, 3, result.stdout + result.stderr)
        self.assertIn("decision: denied with status 401", result.stdout)
        self.assertIn('"code":401', result.stdout)

    def test_unmatched_request_reports_no_rule(self):
        result = run_gatehouse("rules", "test", "-c", "good.yaml",
                               "--url", "http://shop.test/basket", "-X", "POST")
        self.assertEqual(result.returncode, 3, result.stdout + result.stderr)
        self.assertIn("match: no rule matches POST http://shop.test/basket", result.stdout)
        self.assertIn("status 404", result.stdout)

    def test_path_is_normalized_before_matching(self):
        result = run_gatehouse("rules", "test", "-c", "good.yaml",
                               "--url", "http://shop.test/basket/../catalogue/x")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("capture 1: x", result.stdout)

    def test_invalid_config_exits_one(self):
        result = run_gatehouse("rules", "test", "-c", "bad-pattern.yaml", "--url", "http://shop.test/")
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("invalid match.url pattern", result.stderr)

    def test_bad_arguments_exit_two(self):
        self.assertEqual(run_gatehouse("rules", "test", "-c", "good.yaml", "--url", "not a url").returncode, 2)
        self.assertEqual(run_gatehouse("rules", "test", "-c", "good.yaml", "--url", "http://shop.test/",
                                       "-H", "no colon").returncode, 2)


if __name__ == "__main__":
    unittest.main()
