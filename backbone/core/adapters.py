from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are created by invitation only (see core.views.invitation_accept)."""

    def is_open_for_signup(self, request) -> bool:
        return False
