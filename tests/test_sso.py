"""SSO end to end: the proxy's ``/sso/key/generate`` → a local OpenID Connect provider written
for this test (authorization codes, PKCE, RS256 ID tokens, a JWKS, userinfo) → ``/sso/callback``
→ a session cookie that the management API accepts (writes with the CSRF header); a wrong state,
nonce or audience is refused."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import test_proxy
from test_proxy import MASTER_KEY, Proxy, base_config, start_proxy

CLIENT_ID = "llmrelay-ui"
CLIENT_SECRET = "sso-test-secret"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_int(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class Issuer:
    """A minimal OpenID Connect provider: one RSA key, codes bound to PKCE challenges."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        # What signs the ID tokens (the JWKS always publishes `key`).
        self.signing_key = self.key
        self.codes: dict[str, dict[str, Any]] = {}
        self.user: dict[str, Any] = {}
        # Claims forced into the next ID tokens (to forge a bad nonce or audience).
        self.overrides: dict[str, Any] = {}
        self.token_requests: list[dict[str, str]] = []
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def answer(self, status: int, body: Any = None, headers: dict | None = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                if body is not None:
                    self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/.well-known/openid-configuration":
                    self.answer(200, {
                        "issuer": issuer.url,
                        "authorization_endpoint": issuer.url + "/authorize",
                        "token_endpoint": issuer.url + "/token",
                        "userinfo_endpoint": issuer.url + "/userinfo",
                        "jwks_uri": issuer.url + "/jwks",
                    })
                elif url.path == "/jwks":
                    numbers = issuer.key.public_key().public_numbers()
                    self.answer(200, {"keys": [{
                        "kty": "RSA", "kid": issuer.kid, "use": "sig", "alg": "RS256",
                        "n": b64url_int(numbers.n), "e": b64url_int(numbers.e),
                    }]})
                elif url.path == "/authorize":
                    assert query["response_type"] == "code"
                    assert query["client_id"] == CLIENT_ID
                    assert query["code_challenge_method"] == "S256"
                    code = secrets.token_urlsafe(16)
                    issuer.codes[code] = query
                    target = query["redirect_uri"] + "?" + urllib.parse.urlencode(
                        {"code": code, "state": query["state"]})
                    self.answer(302, headers={"location": target})
                elif url.path == "/userinfo":
                    if self.headers.get("authorization") != "Bearer access-" + issuer.user["sub"]:
                        self.answer(401, {"error": "invalid_token"})
                        return
                    self.answer(200, issuer.user)
                else:
                    self.answer(404, {"error": "not_found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                issuer.token_requests.append(form)
                request = issuer.codes.pop(form.get("code", ""), None)
                challenge = b64url(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
                if (request is None or form.get("grant_type") != "authorization_code"
                        or form.get("client_secret") != CLIENT_SECRET
                        or form.get("redirect_uri") != request["redirect_uri"]
                        or challenge != request["code_challenge"]):
                    self.answer(400, {"error": "invalid_grant"})
                    return
                claims = {
                    "iss": issuer.url, "aud": CLIENT_ID, "sub": issuer.user["sub"],
                    "iat": int(time.time()), "exp": int(time.time()) + 300,
                    "nonce": request["nonce"],
                    "preferred_username": issuer.user["preferred_username"],
                    "email": issuer.user["email"],
                    **issuer.overrides,
                }
                self.answer(200, {
                    "access_token": "access-" + issuer.user["sub"], "token_type": "Bearer",
                    "id_token": issuer.id_token(claims), "expires_in": 300,
                })

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def id_token(self, claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = (b64url(json.dumps(header).encode()) + "."
                         + b64url(json.dumps(claims).encode())).encode()
        signature = self.signing_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return signing_input.decode() + "." + b64url(signature)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def get(url: str, cookies: dict[str, str] | None = None,
        headers: dict[str, str] | None = None, method: str = "GET",
        body: Any = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
    all_headers = dict(headers or {})
    if cookies:
        all_headers["cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    data = None
    if body is not None:
        data = json.dumps(body)
        all_headers["content-type"] = "application/json"
    path = parts.path + ("?" + parts.query if parts.query else "")
    connection.request(method, path, body=data, headers=all_headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, response.headers, payload


def set_cookies(headers: http.client.HTTPMessage) -> dict[str, dict[str, str]]:
    """Set-Cookie headers as {name: {"value", and the lower-cased attributes}}."""
    found = {}
    for line in headers.get_all("set-cookie") or []:
        first, *attributes = [part.strip() for part in line.split(";")]
        name, value = first.split("=", 1)
        entry = {"value": value}
        for attribute in attributes:
            key, _, attr_value = attribute.partition("=")
            entry[key.lower()] = attr_value or "true"
        found[name] = entry
    return found


@pytest.fixture(scope="module")
def issuer():
    server = Issuer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory, issuer: Issuer, mock_server: Any):
    port = test_proxy.free_port()
    original = test_proxy.free_port
    test_proxy.free_port = lambda: port
    env = {
        "GENERIC_CLIENT_ID": CLIENT_ID,
        "GENERIC_CLIENT_SECRET": CLIENT_SECRET,
        "GENERIC_AUTHORIZATION_ENDPOINT": issuer.url + "/authorize",
        "GENERIC_TOKEN_ENDPOINT": issuer.url + "/token",
        "GENERIC_USERINFO_ENDPOINT": issuer.url + "/userinfo",
        "GENERIC_SCOPE": "openid email profile",
        "GENERIC_ISSUER": issuer.url,
        "GENERIC_USER_ID_ATTRIBUTE": "preferred_username",
        "GENERIC_USER_ROLE_ATTRIBUTE": "litellm_role",
        "PROXY_BASE_URL": f"http://127.0.0.1:{port}",
    }
    config = base_config(mock_server) + """
        litellm_settings:
          store_audit_logs: true
    """
    try:
        server = start_proxy(tmp_path_factory.mktemp("sso"), config, env=env)
    finally:
        test_proxy.free_port = original
    yield server
    assert server.stop() == 0


def sign_in(proxy: Proxy, issuer: Issuer, user: dict[str, Any], *,
            tamper_state: bool = False) -> tuple[int, dict[str, dict[str, str]], bytes, str]:
    """Drives the browser's part: the proxy's redirect, the provider's, the callback."""
    issuer.user = user
    status, headers, _ = get(proxy.url + "/sso/key/generate")
    assert status == 303
    login_cookies = set_cookies(headers)
    state_cookie = login_cookies["llmrelay_sso_state"]
    assert state_cookie["httponly"] == "true" and state_cookie["path"] == "/sso"
    authorize = headers["location"]
    assert authorize.startswith(issuer.url + "/authorize?")
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authorize).query))
    assert params["redirect_uri"] == proxy.url + "/sso/callback"
    assert params["scope"] == "openid email profile"
    assert len(params["code_challenge"]) == 43 and params["nonce"] and params["state"]
    status, headers, _ = get(authorize)
    assert status == 302
    callback = headers["location"]
    assert callback.startswith(proxy.url + "/sso/callback?")
    if tamper_state:
        callback = callback.replace("state=", "state=x", 1)
    status, headers, payload = get(callback, {"llmrelay_sso_state": state_cookie["value"]})
    return status, set_cookies(headers), payload, headers.get("location", "")


ADMIN = {"sub": "u-1", "preferred_username": "ada", "email": "ada@example.com",
         "litellm_role": "proxy_admin"}


def test_sign_in_gives_a_session_the_management_api_accepts(proxy: Proxy, issuer: Issuer) -> None:
    status, cookies, payload, location = sign_in(proxy, issuer, ADMIN)
    assert status == 303, payload
    assert location == proxy.url + "/ui/?login=success"
    session = cookies["llmrelay_session"]
    assert session["httponly"] == "true" and session["samesite"] == "Lax"
    csrf = cookies["llmrelay_csrf"]
    assert "httponly" not in csrf
    assert cookies["llmrelay_sso_state"]["max-age"] == "0"
    # The code was exchanged with the PKCE verifier and the client secret.
    assert issuer.token_requests[-1]["code_verifier"]
    jar = {"llmrelay_session": session["value"], "llmrelay_csrf": csrf["value"]}

    # Reads with the cookie alone.
    status, _, payload = get(proxy.url + "/user/info?user_id=ada", jar)
    assert status == 200, payload
    info = json.loads(payload)["user_info"]
    assert info["user_role"] == "proxy_admin"
    assert info["user_email"] == "ada@example.com"
    # Writes need the CSRF header.
    status, _, payload = get(proxy.url + "/team/new", jar, method="POST", body={"team_alias": "t"})
    assert status == 403, payload
    assert "CSRF" in json.loads(payload)["error"]["message"]
    status, _, payload = get(proxy.url + "/team/new", jar, method="POST", body={"team_alias": "t"},
                             headers={"x-csrf-token": "wrong"})
    assert status == 403, payload
    status, _, payload = get(proxy.url + "/team/new", jar, method="POST", body={"team_alias": "t"},
                             headers={"x-csrf-token": csrf["value"]})
    assert status == 200, payload

    # The session's key is the user's own (LiteLLM hands the UI a key).
    status, _, payload = proxy.request("GET", "/key/list?user_id=ada")
    assert status == 200, payload
    assert json.loads(payload)["total_count"] >= 1

    # A forged or altered session cookie is refused.
    forged = dict(jar, llmrelay_session=session["value"][:-4] + "AAAA")
    status, _, payload = get(proxy.url + "/user/info?user_id=ada", forged)
    assert status == 401, payload

    # The change is attributed to the SSO user in the audit log.
    deadline = time.monotonic() + 10
    while True:
        status, _, payload = proxy.request("GET", "/audit?table_name=LiteLLM_TeamTable&changed_by=ada")
        if json.loads(payload)["total"] >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert json.loads(payload)["total"] == 1


def test_roles_come_from_the_claim(proxy: Proxy, issuer: Issuer) -> None:
    viewer = {"sub": "u-2", "preferred_username": "bob", "email": "bob@example.com",
              "litellm_role": "internal_user_viewer"}
    status, cookies, payload, _ = sign_in(proxy, issuer, viewer)
    assert status == 303, payload
    jar = {name: cookie["value"] for name, cookie in cookies.items() if cookie["value"]}
    status, _, payload = get(proxy.url + "/team/new", jar, method="POST", body={"team_alias": "b"},
                             headers={"x-csrf-token": jar["llmrelay_csrf"]})
    assert status == 401, payload
    status, _, payload = proxy.request("GET", "/user/info?user_id=bob")
    assert json.loads(payload)["user_info"]["user_role"] == "internal_user_viewer"


def test_a_wrong_state_is_refused(proxy: Proxy, issuer: Issuer) -> None:
    status, cookies, payload, _ = sign_in(proxy, issuer, ADMIN, tamper_state=True)
    assert status == 401, payload
    assert "state" in json.loads(payload)["error"]["message"]
    assert "llmrelay_session" not in cookies


def test_a_callback_without_the_login_cookie_is_refused(proxy: Proxy, issuer: Issuer) -> None:
    status, _, payload = get(proxy.url + "/sso/callback?code=x&state=y")
    assert status == 401, payload


@pytest.mark.parametrize("claim,value", [("nonce", "not-the-nonce"), ("aud", "another-client"),
                                         ("iss", "https://evil.example")])
def test_a_forged_id_token_is_refused(proxy: Proxy, issuer: Issuer, claim: str,
                                      value: str) -> None:
    issuer.overrides = {claim: value}
    try:
        status, cookies, payload, _ = sign_in(proxy, issuer, ADMIN)
    finally:
        issuer.overrides = {}
    assert status == 401, payload
    assert "ID token" in json.loads(payload)["error"]["message"]
    assert "llmrelay_session" not in cookies


def test_a_token_signed_by_another_key_is_refused(proxy: Proxy, issuer: Issuer) -> None:
    issuer.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    try:
        status, _, payload, _ = sign_in(proxy, issuer, ADMIN)
    finally:
        issuer.signing_key = issuer.key
    assert status == 401, payload


def test_master_key_still_works_beside_sso(proxy: Proxy) -> None:
    status, _, _ = proxy.request("GET", "/key/list", key=MASTER_KEY)
    assert status == 200


def test_sso_is_off_without_generic_client_id(tmp_path: Path, mock: Any) -> None:
    server = start_proxy(tmp_path, base_config(mock))
    try:
        status, _, _ = server.request("GET", "/sso/key/generate", key=None)
        assert status == 404
    finally:
        assert server.stop() == 0
