from oauth2_provider.oauth2_validators import OAuth2Validator


class PeeringDbValidator(OAuth2Validator):
    """The ID token's claims as PeeringDB's validator gives them: the
    standard profile and email claims by scope, and `amr`."""

    # PeeringDB sets this to None and chooses by scope itself.
    oidc_claim_scope = None

    def get_additional_claims(self, request):
        user, scopes = request.user, set(request.scopes)
        claims = {}
        if "profile" in scopes:
            claims.update(
                name=f"{user.first_name} {user.last_name}".strip(),
                given_name=user.first_name,
                family_name=user.last_name,
            )
        if "email" in scopes:
            claims.update(email=user.email, email_verified=True)
        if "amr" in scopes:
            claims["amr"] = ["pwd"]
        return claims
