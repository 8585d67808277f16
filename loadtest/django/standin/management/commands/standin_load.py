import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from oauth2_provider.models import get_application_model


class Command(BaseCommand):
    help = "Creates the portal's OAuth client and the people of STANDIN_PEOPLE."

    def handle(self, *args, **options):
        with open(settings.STANDIN_PEOPLE, encoding="utf-8") as f:
            load = json.load(f)
        User = get_user_model()
        Application = get_application_model()
        with transaction.atomic():
            users = []
            for person in load["people"]:
                p = person["profile"]
                user = User(pk=p["id"], username=person["username"], email=p["email"],
                            first_name=p["given_name"], last_name=p["family_name"])
                user.set_password(person["password"])
                users.append(user)
            User.objects.bulk_create(users)
            client = load["client"]
            Application.objects.create(
                name="PeerPortal (load)",
                client_id=client["client_id"],
                client_secret=client["client_secret"],
                client_type=Application.CLIENT_CONFIDENTIAL,
                authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
                redirect_uris=client["redirect_uri"],
                algorithm=Application.RS256_ALGORITHM,
                skip_authorization=False,
            )
        self.stdout.write(f"{len(users)} people and the client {client['client_id']}")
