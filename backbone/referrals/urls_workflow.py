"""Routes of the referrals app: workflow (included by urls.py under /n/<network_slug>/)."""

from django.urls import path

from backbone.referrals import views_workflow as views

urlpatterns = [
    path("referrals/", views.inbox, name="inbox"),
    path("referrals/new/", views.referral_add, name="referral-add"),
    path("referrals/settings/", views.referral_settings, name="settings"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral-detail"),
    path("referrals/<int:pk>/update/", views.referral_update, name="referral-update"),
    path("referrals/<int:pk>/messages/", views.referral_message, name="referral-message"),
    path("notifications/", views.notifications, name="notifications"),
    path("directory/services/<int:pk>/refer-me/", views.self_referral, name="self-referral"),
]
