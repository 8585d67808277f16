from django.contrib.auth import views as auth
from django.urls import include, path

from . import views

urlpatterns = [
    path("account/login/", auth.LoginView.as_view(), name="login"),
    path("oauth2/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("profile/v1", views.profile),
]
