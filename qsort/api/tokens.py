"""API tokens (django-rest-knox): `POST /api/token/` with a username and password returns a token
that expires (REST_KNOX["TOKEN_TTL"]); only its hash is stored, so neither the database nor the
admin can show it. Sign-in attempts here share the web sign-in's rate limit and lockout."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import pre_save
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from knox.views import LoginView
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from qsort.security.limits import LoginThrottle


class ObtainToken(LoginView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]

    @extend_schema(
        request=AuthTokenSerializer,
        responses={
            200: inline_serializer(
                "ApiToken", {"token": serializers.CharField(), "expiry": serializers.DateTimeField()}
            )
        },
    )
    def post(self, request: Request, format=None) -> Response:
        # The plain request goes to authenticate(), so django-axes can mark a locked-out address.
        form = AuthTokenSerializer(data=request.data, context={"request": request._request})
        if not form.is_valid():
            if getattr(request._request, "axes_locked_out", False):
                raise Throttled(detail="Too many failed sign-ins from your address: try again later.")
            form.is_valid(raise_exception=True)
        request.user = form.validated_data["user"]
        return super().post(request, format)


def revoke_tokens_on_password_change(sender, instance, **kwargs) -> None:
    """A new password ends every API token handed out under the old one."""
    if instance.pk is None:
        return
    old = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if old is not None and old != instance.password:
        AuthToken.objects.filter(user_id=instance.pk).delete()


def connect() -> None:
    pre_save.connect(revoke_tokens_on_password_change, sender=get_user_model(), dispatch_uid="qsort-revoke-tokens")
