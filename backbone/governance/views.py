from django.shortcuts import render

from backbone.core.models import Organization
from backbone.core.web import network_view
from backbone.governance.models import WorkingGroup


@network_view
def working_group_detail(request, access, pk: int):
    group = access.get_object(WorkingGroup, pk=pk)
    return render(
        request,
        "governance/working_group_detail.html",
        {
            "access": access,
            "group": group,
            "organizations": access.scope(Organization)
            .filter(working_groups=group)
            .order_by("name"),
            "people": group.people.order_by("full_name") if access.is_member else [],
            "can_change": access.can("change", group),
        },
    )
