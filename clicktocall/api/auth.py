"""Authentication and permissions of the API: a staff user's token; the admin's view permissions."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import BasePermission

from .models import ApiToken, digest

LAST_USED_PRECISION = timedelta(minutes=5)  # ``last_used_at`` is written at most this often


class ApiTokenAuthentication(TokenAuthentication):
    """``Authorization: Bearer ctc_…``: a token created in the admin for an active staff user."""

    keyword = "Bearer"
    model = ApiToken

    def authenticate_credentials(self, key: str):
        token = ApiToken.objects.select_related("user").filter(key_hash=digest(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        user = token.user
        if not user.is_active or not user.is_staff:
            raise exceptions.AuthenticationFailed("The token's user is inactive or not staff.")
        now = timezone.now()
        if token.last_used_at is None or token.last_used_at < now - LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token


class AdminViewPermission(BasePermission):
    """Whoever may view the view's model in the admin (``view`` or ``change`` permission) may read it."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated or not user.is_staff:
            return False
        model = view.permission_model
        model_admin = admin.site._registry.get(model)
        if model_admin is not None:
            return model_admin.has_view_permission(request)
        opts = model._meta
        return user.has_perm(f"{opts.app_label}.view_{opts.model_name}") or user.has_perm(
            f"{opts.app_label}.change_{opts.model_name}"
        )
