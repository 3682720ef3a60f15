"""The token service on a real PostgreSQL server started by the test: migrations, and two
token-service processes sharing one database, where a token issued by one is introspected
and revoked through the other."""

from __future__ import annotations

import json
import subprocess
import unittest

from harness import header_value, http
from postgres import POSTGRES_BIN, PostgreSQL, available
from test_token_service import (FORM_HEADERS, TokenServiceProcess, basic_header, form_body,
                                run_cli)


@unittest.skipUnless(available(), f"PostgreSQL server binaries not found in {POSTGRES_BIN}")
class PostgresTokenServiceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.database = PostgreSQL().__enter__()
        try:
            migrated = run_cli("migrate", "sql", "--dsn", cls.database.dsn)
            assert migrated.returncode == 0, migrated.stderr
            cls.first = TokenServiceProcess(cls.database.dsn).__enter__()
            cls.second = TokenServiceProcess(cls.database.dsn).__enter__()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        for name in ("second", "first"):
            process = getattr(cls, name, None)
            if process is not None:
                process.__exit__(None, None, None)
        cls.database.__exit__(None, None, None)

    def psql(self, query: str) -> str:
        result = subprocess.run([f"{POSTGRES_BIN}/psql", self.database.dsn, "-At", "-c", query],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.strip()

    def test_migration_is_recorded_once(self) -> None:
        again = run_cli("migrate", "sql", "--dsn", self.database.dsn)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("schema at version 1 (was 1)", again.stdout)
        self.assertEqual(self.psql("SELECT string_agg(version::text, ',') FROM gatehouse_schema_migrations"), "1")

    def test_replicas_share_tokens(self) -> None:
        self.first.create_client(client_id="shared", client_secret="shared-secret", scope="read")
        token = self.first.access_token("shared", "shared-secret", scope="read")

        active = self.second.introspect(token)
        self.assertTrue(active["active"])
        self.assertEqual(active["client_id"], "shared")
        self.assertEqual(active["scope"], "read")

        self.assertEqual(self.second.revoke(token, "shared", "shared-secret"), 200)
        self.assertEqual(self.first.introspect(token), {"active": False})
        self.assertEqual(self.second.introspect(token), {"active": False})

    def test_replicas_share_clients_and_secrets(self) -> None:
        self.second.create_client(client_id="from-second", client_secret="second-secret")
        status, _, body = self.first.token("from-second", "second-secret")
        self.assertEqual(status, 200, body)
        status, _, loaded = self.first.admin("GET", "/admin/clients/from-second")
        self.assertEqual(status, 200)
        self.assertNotIn("client_secret", loaded)
        stored = self.psql("SELECT secret_hash FROM gatehouse_oauth2_clients WHERE id = 'from-second'")
        self.assertTrue(stored.startswith("$pbkdf2-sha256$i="), stored)
        self.assertNotIn("second-secret", stored)

    def test_jwt_issued_by_one_replica_introspects_on_other(self) -> None:
        self.first.create_client(client_id="jwt-shared", client_secret="jwt-secret", access_token_strategy="jwt")
        token = self.first.access_token("jwt-shared", "jwt-secret")
        self.assertEqual(token.count("."), 2)
        self.assertTrue(self.second.introspect(token)["active"])
        self.assertEqual(self.second.revoke(token, "jwt-shared", "jwt-secret"), 200)
        self.assertFalse(self.first.introspect(token)["active"])

    def test_duplicate_client_across_replicas(self) -> None:
        self.first.create_client(client_id="unique")
        status, _, body = self.second.admin("POST", "/admin/clients", {"client_id": "unique"})
        self.assertEqual(status, 409, body)

    def test_bad_input_returns_rfc_errors(self) -> None:
        self.first.create_client(client_id="strict", client_secret="strict-secret")
        cases = [
            ({"grant_type": "urn:ietf:params:oauth:grant-type:device_code"}, basic_header("strict", "strict-secret"),
             400, "unsupported_grant_type"),
            ({"grant_type": "client_credentials"}, basic_header("strict", "wrong-secret"), 401, "invalid_client"),
            ({"grant_type": "client_credentials"}, basic_header("nobody-here", "strict-secret"), 401, "invalid_client"),
            (b"grant_type=%G1", basic_header("strict", "strict-secret"), 400, "invalid_request"),
        ]
        for fields, authorization, expected_status, expected_error in cases:
            with self.subTest(fields=fields):
                status, headers, body = self.second.post_form("/oauth2/token", fields, authorization)
                self.assertEqual(status, expected_status, body)
                self.assertEqual(body["error"], expected_error)
                if status == 401:
                    self.assertEqual(header_value(headers, "WWW-Authenticate"), 'Basic realm="gatehouse"')
        status, _, raw = http("POST", self.second.public_url + "/oauth2/token",
                              {**FORM_HEADERS, "Authorization": basic_header("strict", "strict-secret")},
                              form_body({"scope": "x" * 70_000}))
        self.assertEqual(status, 413, raw)
        self.assertEqual(json.loads(raw)["error"], "invalid_request")

    def test_readiness_checks_database(self) -> None:
        for service in (self.first, self.second):
            status, _, raw = http("GET", service.admin_url + "/health/ready")
            self.assertEqual((status, json.loads(raw)), (200, {"status": "ok"}))


if __name__ == "__main__":
    unittest.main()
