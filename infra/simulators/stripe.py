"""The Stripe API (Checkout, Billing) and its webhooks, offline, in API version 2025-03-31.basil.

API (bearer auth with the secret key, form-encoded bodies, Idempotency-Key honoured):
  POST /v1/customers                               create
  POST /v1/checkout/sessions                       mode=subscription, one line with price_data
  GET  /v1/checkout/sessions/{id}                  fetch
  POST /v1/checkout/sessions/{id}/expire           an open session can no longer be paid
  GET  /v1/subscriptions/{id}                      fetch
  POST /v1/subscriptions/{id}                      cancel_at_period_end=true|false
  DELETE /v1/subscriptions/{id}                    cancel now
  GET  /v1/payment_methods/{id}                    a card's brand and last four
  POST /v1/billing_portal/sessions                 customer, return_url → url
Checkout, as a customer meets it:
  GET  /pay/{session id}                           pays at once with a Visa ending 4242: the
                                                   subscription becomes active and signed
                                                   webhooks follow (customer.subscription.created,
                                                   invoice.paid, customer.subscription.updated,
                                                   checkout.session.completed)
  GET  /portal/{id}                                the billing portal's page
Driving the lifecycle from tests or by hand (each sends the matching signed webhooks):
  POST /_sim/subscriptions/{id}/{renew|fail_renewal|cancel}
  POST /_sim/fail {"path": "/v1/checkout/sessions", "status": 500, "times": 1}

Webhooks are POSTed to `webhook_url` with Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
"{t}.{body}" under the endpoint secret>, as Stripe signs them.
"""
import hashlib
import hmac
import json
import secrets
import string
import threading
import time
import urllib.error
import urllib.request

from .base import Simulator

API_VERSION = "2025-03-31.basil"
DAY = 86400


def sid(prefix):
    alphabet = string.ascii_letters + string.digits
    return prefix + "_" + "".join(secrets.choice(alphabet) for _ in range(24))


def metadata(body, prefix):
    """`prefix[key]=value` form fields as a dict."""
    return {k[len(prefix) + 1:-1]: v for k, v in body.items() if k.startswith(prefix + "[") and k.endswith("]")
            and "[" not in k[len(prefix) + 1:-1]}


class Stripe(Simulator):
    def __init__(self, secret_key, webhook_secret, webhook_url, **kw):
        super().__init__(**kw)
        self.secret_key, self.webhook_secret, self.webhook_url = secret_key, webhook_secret, webhook_url
        self.customers, self.sessions, self.subs, self.methods, self.portals = {}, {}, {}, {}, {}
        self.idempotent = {}
        self.deliveries = []
        # State changes happen under `state`; their webhooks are queued and sent after it is
        # released, so a function that calls back while handling one never waits on it.
        self.state = threading.Lock()
        self.sending = threading.Lock()
        self.pending = []

    def error_body(self, status, message, param=None, kind="invalid_request_error"):
        error = {"type": kind if status < 500 else "api_error", "message": message}
        if param:
            error["param"] = param
        return {"error": error}

    def missing(self, h, what, id_):
        h.reply(404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                "message": f"No such {what}: '{id_}'", "param": "id"}})

    def route(self, h, method, path, query, body):
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["pay"] and len(parts) == 2 and method == "GET":
            return self.pay(h, parts[1])
        if parts[:1] == ["portal"] and len(parts) == 2 and method == "GET":
            page = b"<!doctype html><title>Stripe billing portal (simulated)</title><h1>Manage your billing</h1>"
            return h.reply(200, raw=page, content_type="text/html; charset=utf-8")
        if parts[:2] == ["_sim", "subscriptions"] and len(parts) == 4 and method == "POST":
            return self.drive(h, parts[2], parts[3])
        if parts[:1] != ["v1"]:
            return h.reply(404, self.error_body(404, f"Unrecognized request URL ({method}: {path})."))
        if h.headers.get("authorization") != f"Bearer {self.secret_key}":
            return h.reply(401, self.error_body(401, "Invalid API Key provided.", kind="invalid_request_error"))
        body = body or {}
        key = h.headers.get("idempotency-key")
        if method == "POST" and key and (key, path) in self.idempotent:
            status, doc = self.idempotent[(key, path)]
            return h.reply(status, doc, headers={"idempotent-replayed": "true"})
        status, doc = self.api(method, parts[1:], body)
        if method == "POST" and key and status < 500:
            self.idempotent[(key, path)] = (status, doc)
        h.reply(status, doc)
        self.flush()

    def api(self, method, parts, body):
        with self.state:
            if parts == ["customers"] and method == "POST":
                return self.create_customer(body)
            if parts == ["checkout", "sessions"] and method == "POST":
                return self.create_session(body)
            if parts[:2] == ["checkout", "sessions"] and len(parts) >= 3:
                session = self.sessions.get(parts[2])
                if session is None:
                    return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                           "message": f"No such checkout.session: '{parts[2]}'"}}
                if len(parts) == 3 and method == "GET":
                    return 200, session
                if parts[3:] == ["expire"] and method == "POST":
                    if session["status"] != "open":
                        return 400, self.error_body(400, f"Only Checkout Sessions with a status in [\"open\"] can be "
                                                         f"expired. This Checkout Session has a status of "
                                                         f"\"{session['status']}\".")
                    session.update(status="expired", url=None)
                    return 200, session
            if parts[:1] == ["subscriptions"] and len(parts) == 2:
                sub = self.subs.get(parts[1])
                if sub is None:
                    return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                           "message": f"No such subscription: '{parts[1]}'"}}
                if method == "GET":
                    return 200, sub
                if sub["status"] in ("canceled", "incomplete_expired"):
                    return 400, self.error_body(400, "A canceled subscription can only update its "
                                                     "cancellation_details and metadata.")
                if method == "DELETE":
                    sub.update(status="canceled", canceled_at=int(time.time()), ended_at=int(time.time()))
                    self.emit("customer.subscription.deleted", sub)
                    return 200, sub
                if method == "POST" and "cancel_at_period_end" in body:
                    sub["cancel_at_period_end"] = body["cancel_at_period_end"] == "true"
                    self.emit("customer.subscription.updated", sub)
                    return 200, sub
            if parts[:1] == ["payment_methods"] and len(parts) == 2 and method == "GET":
                pm = self.methods.get(parts[1])
                if pm is None:
                    return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                           "message": f"No such PaymentMethod: '{parts[1]}'"}}
                return 200, pm
            if parts == ["billing_portal", "sessions"] and method == "POST":
                if body.get("customer") not in self.customers:
                    return 400, self.error_body(400, f"No such customer: '{body.get('customer')}'", "customer")
                portal = {"id": sid("bps"), "object": "billing_portal.session", "customer": body["customer"],
                          "return_url": body.get("return_url"), "livemode": False, "created": int(time.time())}
                portal["url"] = f"{self.url}/portal/{portal['id']}"
                self.portals[portal["id"]] = portal
                return 200, portal
        return 404, self.error_body(404, "Unrecognized request URL.")

    def create_customer(self, body):
        customer = {"id": sid("cus"), "object": "customer", "email": body.get("email"),
                    "metadata": metadata(body, "metadata"), "created": int(time.time()), "livemode": False}
        self.customers[customer["id"]] = customer
        return 200, customer

    def create_session(self, body):
        if body.get("mode") != "subscription":
            return 400, self.error_body(400, "This simulator makes subscription-mode sessions only.", "mode")
        if body.get("customer") not in self.customers:
            return 400, self.error_body(400, f"No such customer: '{body.get('customer')}'", "customer")
        line = "line_items[0][price_data]"
        currency = body.get(f"{line}[currency]", "")
        try:
            amount = int(body.get(f"{line}[unit_amount]", ""))
        except ValueError:
            return 400, self.error_body(400, "Invalid integer: unit_amount", f"{line}[unit_amount]")
        interval = body.get(f"{line}[recurring][interval]")
        if len(currency) != 3 or currency != currency.lower() or amount < 1 or interval not in ("month", "year"):
            return 400, self.error_body(400, "Invalid price_data", line)
        for url in ("success_url", "cancel_url"):
            if not body.get(url, "").startswith(("http://", "https://")):
                return 400, self.error_body(400, f"Not a valid URL: {url}", url)
        session = {"id": sid("cs_test"), "object": "checkout.session", "mode": "subscription", "status": "open",
                   "payment_status": "unpaid", "customer": body["customer"],
                   "client_reference_id": body.get("client_reference_id"), "currency": currency,
                   "amount_total": amount, "metadata": metadata(body, "metadata"), "subscription": None,
                   "success_url": body["success_url"], "cancel_url": body["cancel_url"], "livemode": False,
                   "created": int(time.time()), "expires_at": int(time.time()) + DAY,
                   "_price": {"currency": currency, "unit_amount": amount, "recurring": {"interval": interval},
                              "product_name": body.get(f"{line}[product_data][name]")},
                   "_subscription_metadata": metadata(body, "subscription_data[metadata]")}
        session["url"] = f"{self.url}/pay/{session['id']}"
        self.sessions[session["id"]] = session
        return 200, self.public(session)

    @staticmethod
    def public(obj):
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def _period(self, sub, start):
        days = 365 if sub["items"]["data"][0]["price"]["recurring"]["interval"] == "year" else 30
        item = sub["items"]["data"][0]
        item["current_period_start"], item["current_period_end"] = start, start + days * DAY

    def _invoice(self, sub, reason, paid):
        item = sub["items"]["data"][0]
        amount = item["price"]["unit_amount"]
        return {"id": sid("in"), "object": "invoice", "customer": sub["customer"],
                "currency": item["price"]["currency"], "amount_due": amount, "amount_paid": amount if paid else 0,
                "billing_reason": reason, "status": "paid" if paid else "open", "attempt_count": 1,
                "parent": {"type": "subscription_details",
                           "subscription_details": {"subscription": sub["id"], "metadata": dict(sub["metadata"])}},
                "lines": {"object": "list", "data": [{"id": sid("il"), "amount": amount, "period": {
                    "start": item["current_period_start"], "end": item["current_period_end"]}}]},
                "created": int(time.time()), "livemode": False}

    def pay(self, h, session_id):
        with self.state:
            session = self.sessions.get(session_id)
            if session is None:
                return h.reply(404, raw=b"<h1>No such checkout session</h1>", content_type="text/html")
            if session["status"] == "expired":
                return h.reply(410, raw=b"<h1>This checkout session has expired</h1>", content_type="text/html")
            if session["status"] == "open":
                self.complete(session)
        page = (f"<!doctype html><title>Stripe Checkout (simulated)</title><h1>Payment successful</h1>"
                f"<p>Subscription {session['subscription']} is active. You can close this window.</p>")
        self.flush()
        h.reply(200, raw=page.encode(), content_type="text/html; charset=utf-8")

    def complete(self, session):
        now = int(time.time())
        pm = {"id": sid("pm"), "object": "payment_method", "type": "card", "customer": session["customer"],
              "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030, "funding": "credit",
                       "country": "US"}}
        self.methods[pm["id"]] = pm
        price = dict(session["_price"], id=sid("price"), object="price")
        sub = {"id": sid("sub"), "object": "subscription", "status": "incomplete", "customer": session["customer"],
               "cancel_at_period_end": False, "default_payment_method": pm["id"], "created": now,
               "start_date": now, "metadata": dict(session["_subscription_metadata"]), "livemode": False,
               "items": {"object": "list", "data": [{"id": sid("si"), "object": "subscription_item",
                                                     "price": price, "quantity": 1}]}}
        self._period(sub, now)
        self.subs[sub["id"]] = sub
        session.update(subscription=sub["id"])
        self.emit("customer.subscription.created", sub)
        invoice = self._invoice(sub, "subscription_create", paid=True)
        sub["latest_invoice"] = invoice["id"]
        self.emit("invoice.paid", invoice)
        sub["status"] = "active"
        self.emit("customer.subscription.updated", sub)
        session.update(status="complete", payment_status="paid", url=None)
        self.emit("checkout.session.completed", self.public(session))

    def drive(self, h, sub_id, action):
        with self.state:
            sub = self.subs.get(sub_id)
            if sub is None:
                return self.missing(h, "subscription", sub_id)
            if action == "renew":
                self._period(sub, sub["items"]["data"][0]["current_period_end"])
                sub["status"] = "active"
                self.emit("invoice.paid", self._invoice(sub, "subscription_cycle", paid=True))
                self.emit("customer.subscription.updated", sub)
            elif action == "fail_renewal":
                sub["status"] = "past_due"
                self.emit("invoice.payment_failed", self._invoice(sub, "subscription_cycle", paid=False))
                self.emit("customer.subscription.updated", sub)
            elif action == "cancel":
                sub.update(status="canceled", canceled_at=int(time.time()))
                self.emit("customer.subscription.deleted", sub)
            else:
                return h.reply(400, self.error_body(400, f"unknown action {action}"))
        self.flush()
        h.reply(200, {"subscription": sub, "deliveries": self.deliveries[-4:]})

    def emit(self, kind, obj):
        """Queues the event with the object as it is now (sent by `flush`)."""
        self.pending.append((kind, json.loads(json.dumps(obj))))

    def flush(self):
        """Sends the queued events one at a time, in order, signed, outside the state lock.
        One thread sends at a time; another that finds it sending leaves the queue to it
        (blocking would deadlock a function that calls back while handling an event), and
        the sender looks again after letting go, so nothing queued meanwhile is stranded."""
        while True:
            if not self.sending.acquire(blocking=False):
                return
            try:
                while True:
                    with self.state:
                        if not self.pending:
                            break
                        kind, obj = self.pending.pop(0)
                    self.send(kind, obj)
            finally:
                self.sending.release()
            with self.state:
                if not self.pending:
                    return

    def send(self, kind, obj):
        doc = {"id": sid("evt"), "object": "event", "api_version": API_VERSION, "created": int(time.time()),
               "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
               "request": {"id": None, "idempotency_key": None}, "type": kind}
        body = json.dumps(doc).encode()
        t = int(time.time())
        signature = hmac.new(self.webhook_secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        req = urllib.request.Request(self.webhook_url, data=body, method="POST", headers={
            "content-type": "application/json; charset=utf-8", "stripe-signature": f"t={t},v1={signature}",
            "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        except Exception as e:  # the platform is down: Stripe would retry later
            status = f"unreachable: {e}"
        self.deliveries.append({"event": kind, "event_id": doc["id"], "status": status})
