"""The events the local stack hands functions, as AWS shapes them: API Gateway's
payload 2.0 (`local.apigw`) and the response it makes of a function's result."""
import base64
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from local.apigw import http_event, translate_response  # noqa: E402


class HttpEvent(unittest.TestCase):
    def test_repeated_query_parameters_are_joined_with_commas_and_kept_raw(self):
        event, _ = http_event("GET", "/v1/assets", "tag=a&tag=b&limit=5")
        self.assertEqual(event["queryStringParameters"], {"tag": "a,b", "limit": "5"})
        self.assertEqual(event["rawQueryString"], "tag=a&tag=b&limit=5")

    def test_cookies_move_out_of_the_headers(self):
        event, _ = http_event("GET", "/v1/me", headers={"cookie": "a=1; b=2", "host": "api.example.com"})
        self.assertEqual(event["cookies"], ["a=1", "b=2"])
        self.assertNotIn("cookie", event["headers"])
        self.assertEqual(event["requestContext"]["domainPrefix"], "api")

    def test_a_body_that_is_not_utf8_arrives_base64_encoded(self):
        event, _ = http_event("POST", "/v1/assets", body=b"\xff\xd8\xff")
        self.assertTrue(event["isBase64Encoded"])
        self.assertEqual(base64.b64decode(event["body"]), b"\xff\xd8\xff")

    def test_the_route_key_names_the_template_and_each_request_gets_its_own_id(self):
        a, id_a = http_event("GET", "/v1/campaigns/1", route_key="GET /v1/campaigns/{id}", params={"id": "1"})
        _, id_b = http_event("GET", "/v1/campaigns/1", route_key="GET /v1/campaigns/{id}", params={"id": "1"})
        self.assertEqual(a["routeKey"], "GET /v1/campaigns/{id}")
        self.assertEqual(a["pathParameters"], {"id": "1"})
        self.assertEqual(a["requestContext"]["requestId"], id_a)
        self.assertNotEqual(id_a, id_b)
        self.assertNotIn("queryStringParameters", a)


class Response(unittest.TestCase):
    def test_a_proxy_result_becomes_its_status_headers_cookies_and_decoded_body(self):
        status, headers, body = translate_response(
            b'{"statusCode": 201, "headers": {"content-type": "text/plain"}, "cookies": ["s=1"],'
            b' "body": "aGk=", "isBase64Encoded": true}')
        self.assertEqual(status, 201)
        self.assertIn(("content-type", "text/plain"), headers)
        self.assertIn(("set-cookie", "s=1"), headers)
        self.assertEqual(body, b"hi")

    def test_a_result_that_is_not_json_is_a_502(self):
        status, _, _ = translate_response(b"not json")
        self.assertEqual(status, 502)


if __name__ == "__main__":
    unittest.main()
