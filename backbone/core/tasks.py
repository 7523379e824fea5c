from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django_tasks import task


@task()
def send_invitation(invitation_id: int) -> str:
    from backbone.core.models import Invitation

    invitation = Invitation.objects.select_related("network", "organization", "invited_by").get(
        pk=invitation_id
    )
    url = settings.SITE_URL.rstrip("/") + reverse(
        "core:invitation-accept", kwargs={"token": invitation.token}
    )
    body = render_to_string("core/email/invitation.txt", {"invitation": invitation, "url": url})
    send_mail(
        f"You are invited to {invitation.network.name} on {settings.SITE_NAME}",
        body,
        settings.DEFAULT_FROM_EMAIL,
        [invitation.email],
    )
    return invitation.email
