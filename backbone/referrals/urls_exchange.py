"""Routes of the referrals app: exchange (included by urls.py under /n/<network_slug>/)."""

urlpatterns: list = []
