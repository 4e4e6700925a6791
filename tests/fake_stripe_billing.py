"""Stripe Billing in the local fake (tests/fake_stripe.py): customers, subscriptions, invoices and
their payments, and webhook events signed with the SDK's own signature code.

A test drives it as Stripe would move: ``complete_checkout(session_id)`` is the donor paying a
subscription-mode Checkout (a customer, an active subscription and its first paid invoice appear);
``bill(subscription_id)`` is the next month (a paid invoice with a PaymentIntent, its charge and
balance transaction, refundable like any fake payment; ``paid=False`` a failed one). The SDK then
talks to it over HTTP: create and retrieve a product, retrieve, update (new ``price_data``, ``pause_collection``) and cancel a
subscription, delete a customer, list an invoice's payments, and list subscriptions and invoices
page by page as Stripe does (newest first, ``limit``, ``starting_after``, ``has_more``; the
subscriptions not canceled unless ``status`` says otherwise; invoices by ``status`` and
``created[gte]``). ``now`` (Unix seconds), when set, is the time every new object is stamped
with. ``event(...)`` and ``signed(...)`` make the webhook a test posts.

Answers follow Stripe's (API 2025-03-31 and later): an invoice names its subscription under
``parent.subscription_details`` with a snapshot of the subscription's metadata, and its
PaymentIntent only through the invoice's payments. Stripe's payloads carry the donor's email and
name; these do too, so that a test can check Zbor keeps none of them.
"""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import parse_qs

import stripe

#: What Stripe's payloads carry about the donor, that Zbor must never keep.
DONOR_EMAIL = "donor@example.org"
DONOR_NAME = "Real Name"
API_VERSION = "2026-10-28.endive"


def _missing(kind: str, ident: str) -> tuple[int, dict]:
    error = {"type": "invalid_request_error", "code": "resource_missing", "message": f"No such {kind}: '{ident}'"}
    return 404, {"error": {**error, "param": "id"}}


def _refused(message: str) -> tuple[int, dict]:
    return 400, {"error": {"type": "invalid_request_error", "message": message}}


class Billing:
    def __init__(self, fake):
        self.fake = fake
        self.products: dict[str, dict] = {}
        self.customers: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.invoices: dict[str, dict] = {}
        #: Invoice id → its InvoicePayment objects.
        self.invoice_payments: dict[str, list[dict]] = {}
        self.counter = 0
        #: The time stamped on new subscriptions and invoices; None: the clock's.
        self.now: int | None = None

    def _time(self) -> int:
        return self.now if self.now is not None else int(time.time())

    def _next(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}_test_{self.counter}"

    # What the donor and the passing months do (called by tests).

    def complete_checkout(self, session_id: str) -> dict:
        """The donor pays a subscription-mode session: its customer, subscription and first paid
        invoice are made. Returns the session as ``checkout.session.completed`` carries it."""
        session = self.fake.sessions[session_id]
        assert session["mode"] == "subscription", "only a subscription-mode session is completed here"
        if session["subscription"] is None:
            customer = self._next("cus")
            self.customers[customer] = {
                "id": customer,
                "object": "customer",
                "email": DONOR_EMAIL,
                "name": DONOR_NAME,
                "deleted": False,
            }
            form = session["_form"]
            subscription = self._next("sub")
            self.subscriptions[subscription] = {
                "id": subscription,
                "object": "subscription",
                "status": "active",
                "customer": customer,
                "currency": session["currency"],
                "metadata": session["_subscription_metadata"],
                "pause_collection": None,
                "cancel_at_period_end": False,
                "created": self._time(),
                "items": {
                    "object": "list",
                    "data": [
                        {
                            "id": self._next("si"),
                            "object": "subscription_item",
                            "quantity": 1,
                            "price": self._price(
                                form.get("line_items[0][price_data][product]", [""])[0] or self._next("prod"),
                                int(form["line_items[0][price_data][unit_amount]"][0]),
                                session["currency"],
                            ),
                        }
                    ],
                },
            }
            session.update(status="complete", payment_status="paid", customer=customer, subscription=subscription)
            self.bill(subscription, reason="subscription_create")
        return self.public(session)

    def bill(self, subscription_id: str, *, paid: bool = True, reason: str = "subscription_cycle") -> dict:
        """One month's invoice of a subscription, paid by card (a PaymentIntent with its charge
        and fee, which refunds can name) or failed. Returns the invoice as its events carry it."""
        subscription = self.subscriptions[subscription_id]
        item = subscription["items"]["data"][0]
        amount = item["price"]["unit_amount"] * item["quantity"]
        invoice_id = self._next("in")
        invoice = {
            "id": invoice_id,
            "object": "invoice",
            "billing_reason": reason,
            "currency": subscription["currency"],
            "customer": subscription["customer"],
            "customer_email": DONOR_EMAIL,
            "customer_name": DONOR_NAME,
            "customer_address": {"country": "PL", "city": "Warszawa", "line1": "ul. Prosta 1"},
            "amount_due": amount,
            "amount_paid": amount if paid else 0,
            "amount_remaining": 0 if paid else amount,
            "attempt_count": 1,
            "status": "paid" if paid else "open",
            "parent": {
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {
                    "subscription": subscription_id,
                    "metadata": dict(subscription["metadata"]),
                },
            },
            "lines": {"object": "list", "data": []},
            "created": self._time(),
            "status_transitions": {"finalized_at": self._time(), "paid_at": self._time() if paid else None},
        }
        self.invoices[invoice_id] = invoice
        payment: dict = {"type": "payment_intent", "payment_intent": f"pi_test_{uuid.uuid4().hex[:12]}"}
        if paid:
            self.fake.add_payment(payment["payment_intent"], amount, subscription["currency"])
        self.invoice_payments[invoice_id] = [
            {
                "id": f"inpay_test_{self.counter}",
                "object": "invoice_payment",
                "invoice": invoice_id,
                "amount_paid": amount if paid else None,
                "amount_requested": amount,
                "currency": subscription["currency"],
                "is_default": True,
                "status": "paid" if paid else "open",
                "payment": payment,
            }
        ]
        if not paid and subscription["status"] == "active":
            subscription["status"] = "past_due"
        return dict(invoice)

    def subscription(self, subscription_id: str) -> dict:
        """A subscription as its events carry it (``customer.subscription.updated`` / ``deleted``)."""
        return json.loads(json.dumps(self.subscriptions[subscription_id]))

    @staticmethod
    def public(obj: dict) -> dict:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def _price(self, product: str, unit_amount: int, currency: str) -> dict:
        return {
            "id": self._next("price"),
            "object": "price",
            "product": product,
            "unit_amount": unit_amount,
            "currency": currency,
            "recurring": {"interval": "month", "interval_count": 1},
            "type": "recurring",
        }

    # The API (called by FakeStripe's handler).

    def answer(self, method: str, path: str, form: dict[str, list[str]]) -> tuple[int, dict] | None:
        """Stripe's answer to a Billing request, or None when the path is not Billing's."""
        parts = path.split("?")[0].strip("/").split("/")  # ["v1", "subscriptions", "sub_…"]
        if parts[1:2] == ["products"]:
            return self._product(method, parts, {k: v[0] for k, v in form.items()})
        if len(parts) == 3 and parts[1] == "subscriptions":
            subscription = self.subscriptions.get(parts[2])
            if subscription is None:
                return _missing("subscription", parts[2])
            if method == "GET":
                return 200, self.subscription(parts[2])
            if method == "DELETE":
                return self._cancel(subscription)
            return self._update(subscription, {k: v[0] for k, v in form.items()})
        if len(parts) == 3 and parts[1] == "customers" and method == "DELETE":
            customer = self.customers.get(parts[2])
            if customer is None or customer["deleted"]:
                return _missing("customer", parts[2])
            customer.update(deleted=True, email=None, name=None)
            return 200, {"id": parts[2], "object": "customer", "deleted": True}
        if method == "GET" and parts[1:] in (["subscriptions"], ["invoices"]):
            return 200, self._list(parts[1], parse_qs(path.partition("?")[2]))
        if method == "GET" and len(parts) == 3 and parts[1] == "invoices":
            invoice = self.invoices.get(parts[2])
            return (200, dict(invoice)) if invoice else _missing("invoice", parts[2])
        if parts[1:] == ["invoice_payments"] and method == "GET":
            query = dict(p.split("=", 1) for p in path.partition("?")[2].split("&") if "=" in p)
            payments = [
                p
                for p in self.invoice_payments.get(query.get("invoice", ""), [])
                if p["status"] == query.get("status", p["status"])
            ]
            return 200, {"object": "list", "data": payments, "has_more": False, "url": "/v1/invoice_payments"}
        return None

    def _list(self, kind: str, query: dict[str, list[str]]) -> dict:
        """One page of subscriptions or invoices, newest first, as Stripe's list endpoints answer."""
        one = {k: v[0] for k, v in query.items()}
        status = one.get("status", "")
        if kind == "subscriptions":
            rows = [self.subscription(s) for s in self.subscriptions]
            if status != "all":
                rows = [r for r in rows if r["status"] == status or (not status and r["status"] != "canceled")]
        else:
            rows = [dict(i) for i in self.invoices.values() if not status or i["status"] == status]
            if "created[gte]" in one:
                rows = [r for r in rows if r["created"] >= int(one["created[gte]"])]
        rows.reverse()  # newest first: made in this order
        if "starting_after" in one:
            ids = [r["id"] for r in rows]
            rows = rows[ids.index(one["starting_after"]) + 1 :]
        limit = int(one.get("limit", 10))
        return {"object": "list", "data": rows[:limit], "has_more": len(rows) > limit, "url": f"/v1/{kind}"}

    def _product(self, method: str, parts: list[str], params: dict[str, str]) -> tuple[int, dict]:
        if method == "POST" and len(parts) == 2:
            product_id = params.get("id") or self._next("prod")
            if product_id in self.products:
                error = {"type": "invalid_request_error", "code": "resource_already_exists"}
                return 400, {"error": {**error, "message": "Product already exists.", "param": "id"}}
            self.products[product_id] = {
                "id": product_id,
                "object": "product",
                "name": params["name"],
                "statement_descriptor": params.get("statement_descriptor"),
                "active": True,
            }
            return 200, self.products[product_id]
        if method == "GET" and len(parts) == 3:
            product = self.products.get(parts[2])
            return (200, product) if product else _missing("product", parts[2])
        return _refused("Unrecognized request URL.")

    def _cancel(self, subscription: dict) -> tuple[int, dict]:
        if subscription["status"] == "canceled":
            return _refused("A canceled subscription can only update its cancellation_details and metadata.")
        subscription["status"] = "canceled"
        subscription["canceled_at"] = int(time.time())
        return 200, self.subscription(subscription["id"])

    def _update(self, subscription: dict, params: dict[str, str]) -> tuple[int, dict]:
        if subscription["status"] == "canceled":
            return _refused("A canceled subscription can only update its cancellation_details and metadata.")
        if "pause_collection" in params:  # "" clears it
            subscription["pause_collection"] = None
        if "pause_collection[behavior]" in params:
            subscription["pause_collection"] = {"behavior": params["pause_collection[behavior]"], "resumes_at": None}
        if "items[0][id]" in params:
            item = subscription["items"]["data"][0]
            if params["items[0][id]"] != item["id"]:
                return _missing("subscription_item", params["items[0][id]"])
            if params["items[0][price_data][currency]"] != subscription["currency"]:
                return _refused("The currency of a subscription cannot be changed.")
            item["price"] = self._price(
                params["items[0][price_data][product]"],
                int(params["items[0][price_data][unit_amount]"]),
                params["items[0][price_data][currency]"],
            )
        return 200, self.subscription(subscription["id"])


def event(event_type: str, obj: dict, *, event_id: str = "", api_version: str = API_VERSION) -> str:
    """A Stripe event's JSON body around ``obj``."""
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:16]}",
            "object": "event",
            "api_version": api_version,
            "created": int(time.time()),
            "type": event_type,
            "data": {"object": obj},
        }
    )


def signed(payload: str, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    """The ``stripe-signature`` header Stripe sends with ``payload``, made by the SDK's own code."""
    return {
        "stripe-signature": stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
    }
