"""Our transports plug into twilio's client through its public extension point (``http_client``): these tests
pin the parts of twilio's interface we rely on, so that an upgrade that changes them fails here, by name."""

import inspect

from twilio.http import AsyncHttpClient, HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from notifications.sms import AsyncPooledHttpClient, PooledHttpClient, twilio_client


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_our_transports_answer_the_request_twilio_makes_by_its_public_signature():
    expected = ["self", "method", "uri", "params", "data", "headers", "auth", "timeout", "allow_redirects"]
    assert _parameters(HttpClient.request) == expected and _parameters(AsyncHttpClient.request) == expected
    assert _parameters(PooledHttpClient.request) == expected
    assert _parameters(AsyncPooledHttpClient.request) == expected
    assert _parameters(HttpClient.__init__) == ["self", "logger", "is_async", "timeout"]
    assert _parameters(Response.__init__)[:4] == ["self", "status_code", "text", "headers"]


def test_the_client_takes_our_transport_and_sends_through_it():
    sent = []

    class Recording(PooledHttpClient):
        def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,
                    allow_redirects=False):
            sent.append((method, uri, data, auth))
            return Response(201, '{"sid": "SM00000000000000000000000000000001", "status": "queued"}', {})

    client = Client("AC" + "0" * 32, "secret", http_client=Recording(5.0))
    message = client.messages.create(to="+33600000001", from_="+33600000000", body="Bonjour")
    assert message.sid == "SM00000000000000000000000000000001"
    method, uri, data, auth = sent[0]
    assert method == "POST" and uri.endswith("/Messages.json") and data["Body"] == "Bonjour"
    assert auth == ("AC" + "0" * 32, "secret")
    assert isinstance(twilio_client("AC" + "0" * 32, "secret", None, 5.0).http_client, PooledHttpClient)
