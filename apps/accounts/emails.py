"""E-mails the accounts app sends (through Django's configured e-mail backend)."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from .models import Invitation


def invitation_url(request, raw_token: str) -> str:
    return request.build_absolute_uri(reverse("accounts:accept_invitation", args=[raw_token]))


def send_invitation(request, invitation: Invitation, raw_token: str) -> None:
    """Mail the invitation link. The raw token exists only in this message, never in the DB."""
    context = {
        "invitation": invitation,
        "team": invitation.team,
        "url": invitation_url(request, raw_token),
        "inviter": invitation.invited_by,
    }
    subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
    body = render_to_string("accounts/email/invitation.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])
