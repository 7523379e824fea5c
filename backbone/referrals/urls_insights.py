"""Routes of the referrals app: insights (included by urls.py under /n/<network_slug>/)."""

urlpatterns: list = []
