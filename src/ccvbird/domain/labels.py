"""Words printed on invoice lines, in the invoice's language (the profile's ``language``).

The customer and the bookkeeper read these on the invoice, so they are plain Dutch by default.
"""

from __future__ import annotations

from typing import Final

LABELS: Final[dict[str, dict[str, str]]] = {
    "nl": {
        "shipping": "Verzendkosten",
        "payment_costs": "Betaalkosten",
        "extra_costs": "Extra kosten",
        "coupon": "Kortingscode {code}",
        "cart_discount": "Korting",
        "credit_points": "Korting spaarpunten",
        "rounding": "Afrondingsverschil",
        "rate": "{percentage}% btw",
        "rate_country": "{percentage}% btw {country}",
        "reverse_charge": "btw verlegd",
        "export": "export",
        "platform": "platformverkoop",
    },
    "en": {
        "shipping": "Shipping",
        "payment_costs": "Payment costs",
        "extra_costs": "Extra costs",
        "coupon": "Coupon {code}",
        "cart_discount": "Discount",
        "credit_points": "Credit points discount",
        "rounding": "Rounding difference",
        "rate": "{percentage}% VAT",
        "rate_country": "{percentage}% VAT {country}",
        "reverse_charge": "VAT reverse charged",
        "export": "export",
        "platform": "platform sale",
    },
}

LANGUAGES: Final = frozenset(LABELS)


def label(language: str, name: str, **values: str) -> str:
    return LABELS[language][name].format(**values)
