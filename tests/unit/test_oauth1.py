from __future__ import annotations

import pytest

from streamer.sources.oauth1 import (
    OAuth1Credentials,
    OAuth1Signer,
    base_string_uri,
    hmac_sha1_signature,
    parse_authorization,
    percent_encode,
    query_parameters,
    signature_base_string,
)

# The worked example of X's "Creating a signature" page (OAuth 1.0a, HMAC-SHA1).
DOC_CREDENTIALS = OAuth1Credentials(
    consumer_key="xvz1evFS4wEEPTGEFPHBog",
    consumer_secret="kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
    token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
    token_secret="LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
)
DOC_NONCE = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"
DOC_TIMESTAMP = 1318622958
DOC_STATUS = "Hello Ladies + Gentlemen, a signed OAuth request!"
DOC_BASE_STRING = (
    "POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&"
    "include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26"
    "oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26"
    "oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26"
    "oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26"
    "oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen"
    "%252C%2520a%2520signed%2520OAuth%2520request%2521"
)
DOC_SIGNATURE = "hCtSmYh+iHYCEqBWrE7C7hYmtUk="


def doc_signer() -> OAuth1Signer:
    return OAuth1Signer(DOC_CREDENTIALS, nonce=lambda: DOC_NONCE, clock=lambda: DOC_TIMESTAMP)


def test_the_documented_base_string_and_signature() -> None:
    params = [
        ("status", DOC_STATUS),
        ("include_entities", "true"),
        *doc_signer().oauth_parameters().items(),
    ]
    base = signature_base_string("post", "https://api.twitter.com/1.1/statuses/update.json", params)
    assert base == DOC_BASE_STRING
    signature = hmac_sha1_signature(
        base, DOC_CREDENTIALS.consumer_secret, DOC_CREDENTIALS.token_secret
    )
    assert signature == DOC_SIGNATURE


def test_the_header_signs_query_and_body_parameters() -> None:
    header = doc_signer().authorization(
        "POST",
        "https://api.twitter.com/1.1/statuses/update.json?include_entities=true",
        body_params=[("status", DOC_STATUS)],
    )
    assert header.startswith("OAuth ")
    assert 'oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D"' in header
    fields = parse_authorization(header)
    assert fields == {
        "oauth_consumer_key": DOC_CREDENTIALS.consumer_key,
        "oauth_nonce": DOC_NONCE,
        "oauth_signature": DOC_SIGNATURE,
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(DOC_TIMESTAMP),
        "oauth_token": DOC_CREDENTIALS.token,
        "oauth_version": "1.0",
    }
    # Without the query parameter the signature would differ: it is really signed.
    unsigned_query = doc_signer().authorization(
        "POST",
        "https://api.twitter.com/1.1/statuses/update.json",
        body_params=[("status", DOC_STATUS)],
    )
    assert parse_authorization(unsigned_query)["oauth_signature"] != DOC_SIGNATURE


def test_rfc5849_normalization_example() -> None:
    # RFC 5849 section 3.4.1.1: repeated names, blank values, encoded query, a form body.
    url = "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b"
    params = [
        *query_parameters(url),
        ("c2", ""),
        ("a3", "2 q"),
        ("oauth_consumer_key", "9djdj82h48djs9d2"),
        ("oauth_token", "kkk9d7dh3k39sjv7"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131201"),
        ("oauth_nonce", "7d8f3e4a"),
    ]
    assert signature_base_string("POST", url, params) == (
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q"
        "%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_"
        "key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m"
        "ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk"
        "9d7dh3k39sjv7"
    )


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("AZaz09-._~", "AZaz09-._~"),
        ("a b", "a%20b"),
        ("a+b", "a%2Bb"),
        ("!*'()", "%21%2A%27%28%29"),
        ("/?&=", "%2F%3F%26%3D"),
        ("☃", "%E2%98%83"),
        ("%", "%25"),
    ],
)
def test_percent_encoding_is_rfc3986(raw: str, encoded: str) -> None:
    assert percent_encode(raw) == encoded


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("HTTP://EXAMPLE.COM:80/r%20v/X?id=123", "http://example.com/r%20v/X"),
        ("https://www.example.net:8080/?q=1", "https://www.example.net:8080/"),
        ("https://api.x.com:443/1.1/statuses/sample.json#frag", "https://api.x.com/1.1/statuses/sample.json"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
    ],
)  # fmt: skip
def test_base_string_uri(url: str, base: str) -> None:
    assert base_string_uri(url) == base


def test_each_request_gets_a_fresh_nonce_and_the_current_time() -> None:
    now = [1700000000.9]
    signer = OAuth1Signer(DOC_CREDENTIALS, clock=lambda: now[0])
    first = parse_authorization(signer.authorization("GET", "https://x.test/s"))
    now[0] += 5
    second = parse_authorization(signer.authorization("GET", "https://x.test/s"))
    assert first["oauth_nonce"] != second["oauth_nonce"]
    assert len(first["oauth_nonce"]) >= 16
    assert (first["oauth_timestamp"], second["oauth_timestamp"]) == ("1700000000", "1700000005")
    assert first["oauth_signature"] != second["oauth_signature"]


def test_credentials_do_not_show_their_secrets() -> None:
    shown = repr(DOC_CREDENTIALS)
    assert DOC_CREDENTIALS.consumer_key in shown
    for secret in DOC_CREDENTIALS.secrets:
        assert secret not in shown
