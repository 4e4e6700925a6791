"""What anyone may see: campaign cards, campaign pages, totals, the transparency page.

The read model the public site (``zbor.site``) and the public API (``zbor.api``) share, so the
two always agree. It imports neither of them, and it is no Django app: no models, no URLs.
"""
