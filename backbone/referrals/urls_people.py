"""Routes of the referrals app: people (included by urls.py under /n/<network_slug>/)."""

urlpatterns: list = []
