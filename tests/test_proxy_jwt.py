"""JWT auth through the proxy (LiteLLM's ``enable_jwt_auth``), driven with the real ``openai``
SDK: the test is the identity provider — it serves a JWKS on a local port and signs RS256
tokens with ``cryptography`` — and checks that a valid token calls chat with its team's models,
that expired tokens and tokens for another audience get 401s, that the admin scope manages
keys, and that a key rotated at the issuer is picked up by the proxy."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openai
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from test_proxy import MASTER_KEY, Proxy, start_proxy

AUDIENCE = "llmrelay-proxy-test"
USER = [{"role": "user", "content": "Hello there"}]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(number: int) -> str:
    return b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


class SigningKey:
    """An RSA key of the test's identity provider, with its JWK and an RS256 signer."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict:
        numbers = self.private.public_key().public_numbers()
        return {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                "n": uint(numbers.n), "e": uint(numbers.e)}

    def sign(self, claims: dict, kid: str | None = None) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": kid or self.kid}
        signing_input = ".".join(b64url(json.dumps(part).encode()) for part in (header, claims))
        signature = self.private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"


class Issuer:
    """The identity provider's JWKS endpoint (``/jwks``), whose key set the test can replace."""

    def __init__(self, keys: list[SigningKey]) -> None:
        self.keys = keys
        self.fetches = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                issuer.fetches += 1
                body = json.dumps({"keys": [key.jwk() for key in issuer.keys]}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def claims(**extra: Any) -> dict:
    now = int(time.time())
    return {"aud": AUDIENCE, "iat": now, "exp": now + 300, **extra}


def config(mock: Any) -> str:
    return f"""
        model_list:
          - model_name: gpt-4o
            litellm_params:
              model: openai/gpt-4o-mini
              api_base: {mock.api_base}
              api_key: sk-test
          - model_name: claude
            litellm_params:
              model: anthropic/claude-sonnet-4-20250514
              api_base: {mock.url}
              api_key: sk-ant-test
        general_settings:
          master_key: {MASTER_KEY}
          enable_jwt_auth: true
          litellm_jwtauth:
            user_id_jwt_field: sub
            user_email_jwt_field: email
            team_id_jwt_field: team
            user_id_upsert: true
            public_key_ttl: 600
    """


@pytest.fixture
def idp() -> Any:
    issuer = Issuer([SigningKey("key-1")])
    yield issuer
    issuer.stop()


@pytest.fixture
def proxy(tmp_path: Path, mock: Any, idp: Issuer) -> Any:
    server = start_proxy(tmp_path, config(mock),
                         env={"JWT_PUBLIC_KEY_URL": idp.url, "JWT_AUDIENCE": AUDIENCE})
    status, _, payload = server.request("POST", "/team/new",
                                        {"team_id": "research", "models": ["gpt-4o"]})
    assert status == 200, payload
    yield server
    assert server.stop() == 0


def sdk(proxy: Proxy, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy.url + "/v1", api_key=token, max_retries=0)


def test_valid_token_calls_with_its_teams_models(proxy: Proxy, idp: Issuer) -> None:
    token = idp.keys[0].sign(claims(sub="alice", email="alice@example.com", team="research"))
    with sdk(proxy, token) as client:
        answer = client.chat.completions.create(model="gpt-4o", messages=USER)
        assert answer.choices[0].message.content
        chunks = list(client.chat.completions.create(model="gpt-4o", messages=USER, stream=True))
        assert any(c.choices and c.choices[0].delta.content for c in chunks)
        # The team's model list applies to its JWT callers.
        with pytest.raises(openai.PermissionDeniedError) as denied:
            client.chat.completions.create(model="claude", messages=USER)
        assert denied.value.status_code == 403
    # user_id_upsert created the user, with the token's email.
    status, _, payload = proxy.request("GET", "/user/info?user_id=alice")
    assert status == 200, payload
    assert json.loads(payload)["user_info"]["user_email"] == "alice@example.com"
    # The calls are booked to the team.
    deadline = time.monotonic() + 10
    rows: list = []
    while time.monotonic() < deadline:
        status, _, payload = proxy.request("GET", "/spend/logs?user_id=alice")
        assert status == 200, payload
        rows = [r for r in json.loads(payload) if r["status"] == "success"]
        if len(rows) >= 2:
            break
        time.sleep(0.1)
    assert len(rows) >= 2, rows
    assert {r["team_id"] for r in rows} == {"research"}
    assert idp.fetches == 1


def test_expired_wrong_audience_and_unknown_team_are_refused(proxy: Proxy, idp: Issuer) -> None:
    key = idp.keys[0]
    expired = key.sign(claims(sub="alice", team="research", exp=int(time.time()) - 10))
    with sdk(proxy, expired) as client:
        with pytest.raises(openai.AuthenticationError) as error:
            client.chat.completions.create(model="gpt-4o", messages=USER)
        assert error.value.status_code == 401
        assert "Token Expired" in error.value.message
    other_audience = key.sign(claims(sub="alice", team="research", aud="another-app"))
    with sdk(proxy, other_audience) as client:
        with pytest.raises(openai.AuthenticationError) as error:
            client.chat.completions.create(model="gpt-4o", messages=USER)
        assert error.value.status_code == 401
        assert "Validation fails" in error.value.message
    forged = SigningKey("key-1").sign(claims(sub="alice", team="research"))
    with sdk(proxy, forged) as client:
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model="gpt-4o", messages=USER)
    unknown_team = key.sign(claims(sub="alice", team="nobody"))
    with sdk(proxy, unknown_team) as client:
        with pytest.raises(openai.NotFoundError) as error:
            client.chat.completions.create(model="gpt-4o", messages=USER)
        assert "Team doesn't exist in db. Team=nobody" in error.value.message
    # A team token may not manage keys (LiteLLM's default team_allowed_routes).
    team_token = key.sign(claims(sub="alice", team="research"))
    status, _, payload = proxy.request("POST", "/key/generate", {}, key=team_token)
    assert status == 401, payload
    assert b"Team not allowed to access this route" in payload


def test_admin_scope_manages_keys(proxy: Proxy, idp: Issuer) -> None:
    admin = idp.keys[0].sign(claims(sub="boss", scope="openid litellm_proxy_admin"))
    status, _, payload = proxy.request("POST", "/key/generate", {"key_alias": "from-jwt"},
                                       key=admin)
    assert status == 200, payload
    created = json.loads(payload)
    assert created["key"].startswith("sk-")
    # The key it made works.
    with sdk(proxy, created["key"]) as client:
        assert client.chat.completions.create(model="gpt-4o", messages=USER).choices
    # Without the scope the same user is no admin.
    plain = idp.keys[0].sign(claims(sub="boss"))
    status, _, _ = proxy.request("POST", "/team/new", {"team_id": "x"}, key=plain)
    assert status in (401, 403)
    # LiteLLM's default admin routes are the management ones, not the LLM routes.
    with sdk(proxy, admin) as client:
        with pytest.raises(openai.AuthenticationError) as error:
            client.chat.completions.create(model="gpt-4o", messages=USER)
        assert "Admin not allowed to access this route" in error.value.message


def test_a_key_rotated_at_the_issuer_is_picked_up(proxy: Proxy, idp: Issuer) -> None:
    old, new = idp.keys[0], SigningKey("key-2")
    with sdk(proxy, old.sign(claims(sub="alice", team="research"))) as client:
        assert client.chat.completions.create(model="gpt-4o", messages=USER).choices
    rotated = new.sign(claims(sub="alice", team="research"))
    # Unknown-kid refetches are rate-limited (one per 2 s per URL): within 2 s of the first
    # fetch the proxy does not ask again.
    with sdk(proxy, rotated) as client:
        with pytest.raises(openai.AuthenticationError) as error:
            client.chat.completions.create(model="gpt-4o", messages=USER)
        assert "No matching public key" in error.value.message
    assert idp.fetches == 1
    # Later it asks again (kid unknown), and the key is not published yet: still refused.
    time.sleep(2.2)
    with sdk(proxy, rotated) as client:
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model="gpt-4o", messages=USER)
    assert idp.fetches == 2
    # The issuer rotates; the next refetch the rate limit allows picks the new key up.
    idp.keys = [new]
    time.sleep(2.2)
    with sdk(proxy, rotated) as client:
        assert client.chat.completions.create(model="gpt-4o", messages=USER).choices
        assert client.chat.completions.create(model="gpt-4o", messages=USER).choices
    assert idp.fetches == 3
    # The retired key is gone from the refreshed set.
    with sdk(proxy, old.sign(claims(sub="alice", team="research"))) as client:
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model="gpt-4o", messages=USER)
