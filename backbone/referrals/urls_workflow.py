"""Routes of the referrals app: workflow (included by urls.py under /n/<network_slug>/)."""

urlpatterns: list = []
