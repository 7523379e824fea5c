from django import template
from django.apps import apps
from django.urls import NoReverseMatch, reverse

from backbone.framework.elements import ELEMENTS

register = template.Library()


@register.simple_tag(takes_context=True)
def framework_nav(context):
    """The eight elements with their pages, resolved for the current network."""
    access = context.get("access")
    if access is None:
        return []
    slug = access.network.slug
    nav = []
    for element in ELEMENTS:
        links = []
        for link in element.links:
            if link.needs and not access.allows(apps.get_model(link.needs), link.action):
                continue
            if link.roles and access.role not in link.roles:
                continue
            try:
                links.append({"label": link.label, "url": reverse(link.url_name, args=[slug])})
            except NoReverseMatch:
                continue
        nav.append(
            {
                "element": element,
                "links": links,
                "url": reverse("framework:element", args=[slug, element.slug]),
            }
        )
    return nav
