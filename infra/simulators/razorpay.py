"""The Razorpay Subscriptions API and its webhooks, offline.

API (HTTP basic auth with the key id and secret):
  POST /v1/subscriptions                 create (status created, short_url to the checkout)
  GET  /v1/subscriptions/{id}            fetch
  POST /v1/subscriptions/{id}/cancel     {"cancel_at_cycle_end": 0|1}
Checkout, as a customer meets it:
  GET  /checkout/{id}                    pays at once: the subscription becomes active and
                                         signed webhooks follow (authenticated, activated,
                                         charged, payment.captured), as Razorpay sends them
Driving the lifecycle from tests or by hand (each sends the matching signed webhook):
  POST /_sim/subscriptions/{id}/{charge|pending|halt|pause|resume|cancel|complete}
  POST /_sim/fail {"path": "/v1/subscriptions", "status": 502, "times": 1}

Webhooks are POSTed to `webhook_url` with X-Razorpay-Signature (hex HMAC-SHA256 of the
raw body under the webhook secret) and x-razorpay-event-id, like Razorpay's.
"""
import base64
import hashlib
import hmac
import json
import secrets
import string
import time
import urllib.error
import urllib.request

from .base import Simulator

# Amounts (paise) of the plans Adpilot seeds into system_config; other plan_ ids cost ₹1,000.
PLAN_AMOUNTS = {
    "plan_adpilot_starter_m": 149900, "plan_adpilot_starter_y": 1499000,
    "plan_adpilot_pro_m": 399900, "plan_adpilot_pro_y": 3999000,
    "plan_adpilot_business_m": 799900, "plan_adpilot_business_y": 7999000,
}
DAY = 86400


def rid(prefix):
    alphabet = string.ascii_letters + string.digits
    return prefix + "_" + "".join(secrets.choice(alphabet) for _ in range(14))


class Razorpay(Simulator):
    def __init__(self, key_id, key_secret, webhook_secret, webhook_url, **kw):
        super().__init__(**kw)
        self.key_id, self.key_secret = key_id, key_secret
        self.webhook_secret, self.webhook_url = webhook_secret, webhook_url
        self.subs = {}
        self.deliveries = []

    def error_body(self, status, message):
        code = "BAD_REQUEST_ERROR" if status < 500 else "SERVER_ERROR"
        return {"error": {"code": code, "description": message, "source": "NA", "step": "NA",
                          "reason": "NA", "metadata": {}}}

    def _authorised(self, handler):
        expected = "Basic " + base64.b64encode(f"{self.key_id}:{self.key_secret}".encode()).decode()
        return handler.headers.get("authorization") == expected

    def route(self, h, method, path, query, body):
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["checkout"] and len(parts) == 2 and method == "GET":
            return self.checkout(h, parts[1])
        if parts[:2] == ["_sim", "subscriptions"] and len(parts) == 4 and method == "POST":
            return self.drive(h, parts[2], parts[3])
        if parts[:2] != ["v1", "subscriptions"]:
            return h.reply(404, self.error_body(400, "The requested URL was not found on the server."))
        if not self._authorised(h):
            return h.reply(401, self.error_body(400, "The api key provided is invalid"))
        if len(parts) == 2 and method == "POST":
            return self.create(h, body or {})
        sub = self.subs.get(parts[2]) if len(parts) >= 3 else None
        if sub is None:
            return h.reply(400, self.error_body(400, "The id provided does not exist"))
        if len(parts) == 3 and method == "GET":
            return h.reply(200, sub)
        if len(parts) == 4 and parts[3] == "cancel" and method == "POST":
            return self.cancel(h, sub, body or {})
        return h.reply(404, self.error_body(400, "The requested URL was not found on the server."))

    def create(self, h, body):
        plan = body.get("plan_id")
        if not isinstance(plan, str) or not plan.startswith("plan_"):
            return h.reply(400, self.error_body(400, "The plan id provided does not exist"))
        count = body.get("total_count")
        if not isinstance(count, int) or count < 1:
            return h.reply(400, self.error_body(400, "The total count field is required."))
        now = int(time.time())
        sub_id = rid("sub")
        sub = {"id": sub_id, "entity": "subscription", "plan_id": plan, "customer_id": None, "status": "created",
               "current_start": None, "current_end": None, "ended_at": None, "quantity": body.get("quantity", 1),
               "notes": body.get("notes") or [], "charge_at": None, "start_at": None, "end_at": None,
               "auth_attempts": 0, "total_count": count, "paid_count": 0,
               "customer_notify": bool(body.get("customer_notify", 1)), "created_at": now, "expire_by": None,
               "short_url": f"{self.url}/checkout/{sub_id}", "has_scheduled_changes": False,
               "change_scheduled_at": None, "source": "api", "offer_id": None, "remaining_count": count}
        with self.lock:
            self.subs[sub_id] = sub
        h.reply(200, sub)

    def cancel(self, h, sub, body):
        if sub["status"] in ("cancelled", "completed", "expired"):
            return h.reply(400, self.error_body(400, "Subscription is not cancellable in " + sub["status"] + " status."))
        if int(body.get("cancel_at_cycle_end", 0)) == 1:
            sub["has_scheduled_changes"] = True
            sub["change_scheduled_at"] = sub["current_end"]
        else:
            sub["status"], sub["ended_at"] = "cancelled", int(time.time())
            self.emit("subscription.cancelled", sub)
        h.reply(200, sub)

    def _period(self, sub, start):
        days = 365 if sub["plan_id"].endswith("_y") else 30
        sub["current_start"], sub["current_end"] = start, start + days * DAY
        sub["charge_at"] = sub["current_end"]

    def _charge(self, sub):
        sub["paid_count"] += 1
        sub["remaining_count"] = max(0, sub["total_count"] - sub["paid_count"])
        card_id = rid("card")
        payment = {"id": rid("pay"), "entity": "payment", "amount": PLAN_AMOUNTS.get(sub["plan_id"], 100000),
                   "currency": "INR", "status": "captured", "method": "card", "invoice_id": rid("inv"),
                   "card_id": card_id, "token_id": sub.setdefault("token_id", rid("token")),
                   "card": {"id": card_id, "entity": "card", "name": "Asha Rao", "last4": "1111", "network": "Visa",
                            "type": "credit", "issuer": "HDFC", "international": False, "emi": False},
                   "captured": True, "description": "Subscription charge", "notes": sub["notes"],
                   "created_at": int(time.time())}
        self.emit("subscription.charged", sub, payment)
        self.emit("payment.captured", None, payment)

    def checkout(self, h, sub_id):
        sub = self.subs.get(sub_id)
        if sub is None:
            return h.reply(404, raw=b"<h1>No such subscription</h1>", content_type="text/html")
        if sub["status"] == "created":
            sub["status"], sub["auth_attempts"] = "authenticated", 1
            self.emit("subscription.authenticated", sub)
            sub["status"] = "active"
            self._period(sub, int(time.time()))
            self.emit("subscription.activated", sub)
            self._charge(sub)
        page = (f"<!doctype html><title>Razorpay (simulated)</title><h1>Payment successful</h1>"
                f"<p>Subscription {sub_id} is {sub['status']}. You can close this window.</p>")
        h.reply(200, raw=page.encode(), content_type="text/html; charset=utf-8")

    def drive(self, h, sub_id, action):
        sub = self.subs.get(sub_id)
        if sub is None:
            return h.reply(404, self.error_body(400, "The id provided does not exist"))
        now = int(time.time())
        if action == "charge":
            sub["status"] = "active"
            self._period(sub, sub["current_end"] or now)
            self._charge(sub)
        elif action in ("pending", "halt", "pause", "resume", "cancel", "complete"):
            status = {"pending": "pending", "halt": "halted", "pause": "paused", "resume": "active",
                      "cancel": "cancelled", "complete": "completed"}[action]
            event = {"halt": "halted", "pause": "paused", "resume": "resumed", "cancel": "cancelled",
                     "complete": "completed", "pending": "pending"}[action]
            sub["status"] = status
            self.emit("subscription." + event, sub)
        else:
            return h.reply(400, self.error_body(400, f"unknown action {action}"))
        h.reply(200, {"subscription": sub, "deliveries": self.deliveries[-4:]})

    def emit(self, event, sub, payment=None):
        payload, contains = {}, []
        if sub is not None:
            payload["subscription"] = {"entity": dict(sub)}
            contains.append("subscription")
        if payment is not None:
            payload["payment"] = {"entity": dict(payment)}
            contains.append("payment")
        doc = {"entity": "event", "account_id": "acc_SimulatedAcct01", "event": event, "contains": contains,
               "payload": payload, "created_at": int(time.time())}
        body = json.dumps(doc).encode()
        signature = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        event_id = rid("evt")
        req = urllib.request.Request(self.webhook_url, data=body, method="POST", headers={
            "content-type": "application/json", "x-razorpay-signature": signature,
            "x-razorpay-event-id": event_id, "user-agent": "Razorpay-Webhook/v1"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        except Exception as e:  # the platform is down: Razorpay would retry later
            status = f"unreachable: {e}"
        self.deliveries.append({"event": event, "event_id": event_id, "status": status})
