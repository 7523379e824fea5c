from django.http import Http404
from django.shortcuts import redirect, render

from backbone.core import selectors
from backbone.core.models import LifeStage, Network
from backbone.core.web import network_view
from backbone.framework.elements import BY_SLUG, ELEMENTS
from backbone.framework.templatetags.framework import visible_links
from backbone.governance.models import WorkingGroup


def home(request):
    """The user's networks (or the public ones); straight to the network when only one."""
    if request.user.is_authenticated:
        networks = Network.objects.filter(roles__user=request.user).distinct()
        if len(networks) == 1:
            return redirect("framework:network-home", network_slug=networks[0].slug)
    else:
        networks = Network.objects.filter(is_public=True)
    return render(request, "framework/home.html", {"networks": networks})


@network_view
def network_home(request, access):
    network = access.network
    return render(
        request,
        "framework/network_home.html",
        {
            "access": access,
            "network": network,
            "life_stages": access.scope(LifeStage),
            "sectors": selectors.partners_by_sector(access),
            "counts": selectors.membership_counts(access),
            "working_groups": access.scope(WorkingGroup).select_related("life_stage", "chair"),
            "activity": selectors.recent_activity(access),
            "geography": network.geography_served.all() if access.is_member else [],
        },
    )


@network_view
def element_detail(request, access, element_slug: str):
    element = BY_SLUG.get(element_slug)
    if element is None:
        raise Http404("No such element.")
    links = visible_links(element, access)
    return render(
        request,
        "framework/element.html",
        {"access": access, "element": element, "links": links},
    )


@network_view
def framework_overview(request, access):
    return render(request, "framework/overview.html", {"access": access, "elements": ELEMENTS})
