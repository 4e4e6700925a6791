from django.urls import path

from . import apply_status, apply_views, donate_again, donate_views, monthly_manage, monthly_views, views
from .fastpath import public_page
from .feeds import CampaignUpdatesFeed, NewCampaignsFeed
from .share_card import share_card

app_name = "site"

urlpatterns = [
    path("", views.home, name="home"),
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("transparency/", views.transparency, name="transparency"),
    path("campaigns/preview/<int:pk>/", views.campaign_preview, name="campaign_preview"),
    path("campaigns/feed/", public_page(NewCampaignsFeed()), name="campaigns_feed"),
    path("campaigns/<slug:slug>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<slug:slug>/feed/", public_page(CampaignUpdatesFeed()), name="campaign_feed"),
    path("campaigns/<slug:slug>/card.png", share_card, name="share_card"),
    path("campaigns/<slug:slug>/donate/", donate_views.donate, name="campaign_donate"),
    path("donations/<uuid:public_id>/", donate_views.donation_status, name="donation_status"),
    path("donations/<uuid:public_id>/again/", donate_again.donation_again, name="donation_again"),
    path("monthly/<uuid:public_id>/", monthly_views.monthly_status, name="monthly_status"),
    path("donations/test-checkout/<str:reference>/", donate_views.demo_checkout, name="demo_checkout"),
    # Manage my monthly gift: the address in, a signed link out (monthly_manage.py).
    path("monthly/", monthly_manage.monthly_manage, name="monthly_manage"),
    path("monthly/manage/<str:token>/", monthly_manage.monthly_gifts, name="monthly_gifts"),
    path("monthly/manage/<str:token>/<uuid:public_id>/amount/", monthly_manage.monthly_amount, name="monthly_amount"),
    path("monthly/manage/<str:token>/<uuid:public_id>/pause/", monthly_manage.monthly_pause, name="monthly_pause"),
    path("monthly/manage/<str:token>/<uuid:public_id>/resume/", monthly_manage.monthly_resume, name="monthly_resume"),
    path("monthly/manage/<str:token>/<uuid:public_id>/stop/", monthly_manage.monthly_stop, name="monthly_stop"),
    path(
        "monthly/manage/<str:token>/<uuid:public_id>/stopped/", monthly_manage.monthly_stopped, name="monthly_stopped"
    ),
    # Asking for help (issue 20): apply_views.py, apply_status.py. The status page's addresses
    # come before the programme's, so no programme can be called "status".
    path("apply/", apply_views.apply_start, name="apply"),
    path("apply/status/", apply_status.apply_status, name="apply_status"),
    path("apply/status/answer/", apply_status.apply_answer, name="apply_answer"),
    path("apply/status/withdraw/", apply_status.apply_withdraw, name="apply_withdraw"),
    path("apply/status/leave/", apply_status.apply_leave, name="apply_leave"),
    path("apply/<slug:slug>/", apply_views.apply_form, name="apply_form"),
]
