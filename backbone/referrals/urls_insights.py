"""Routes of the referrals app: insights (included by urls.py under /n/<network_slug>/)."""

from django.urls import path

from backbone.referrals import views_insights as views

urlpatterns = [
    path("referrals/funnels/", views.funnel_view, name="funnels"),
    path("referrals/analytics/", views.analytics_view, name="network-analytics"),
    path("referrals/flows/", views.flows_view, name="flows"),
    path("referrals/milestones/add/", views.milestone_add, name="milestone-add"),
]
