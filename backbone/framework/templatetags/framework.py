from django import template
from django.urls import reverse

from backbone.framework.elements import ELEMENTS, visible_links

register = template.Library()


@register.simple_tag(takes_context=True)
def framework_nav(context):
    """The eight elements with their pages, resolved for the current network. An element
    whose pages this access may not open is `restricted` (built, but not for this role),
    not "not yet" (not built)."""
    access = context.get("access")
    if access is None:
        return []
    slug = access.network.slug
    nav = []
    for element in ELEMENTS:
        links = visible_links(element, access)
        nav.append(
            {
                "element": element,
                "links": links,
                "restricted": bool(element.links) and not links,
                "url": reverse("framework:element", args=[slug, element.slug]),
            }
        )
    return nav
