"""The API's views: read-only, token-authenticated, paginated with cursors."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from ..admin.stats import StatsRangeForm
from ..models import CallAttempt, CallLeg, CampaignLine
from ..stats import default_range, line_stats
from .auth import AdminViewPermission, ApiTokenAuthentication
from .filters import AttemptFilter
from .schema import TAG
from .serializers import AttemptSerializer, LineSerializer, ResultsSerializer


class Cursor(CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "id"

    def decode_cursor(self, request):
        """The cursor, whose position must be a value of the ordering's column (else 404, not a 500)."""
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
        try:
            value = field.to_python(cursor.position)
            if isinstance(value, int) and not -(2**63) <= value < 2**63:
                raise ValueError(value)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise NotFound(self.invalid_cursor_message) from None
        return cursor

    def paginate_queryset(self, queryset, request, view=None):
        self.model = queryset.model
        return super().paginate_queryset(queryset, request, view)


class AttemptCursor(Cursor):
    """Newest first; with ``updated_since``, oldest change first (to sync up to the present)."""

    ordering = ("-created_at", "-id")

    def get_ordering(self, request, queryset, view):
        if request.query_params.get("updated_since"):
            return ("updated_at", "id")
        return self.ordering


class ApiViewSet(viewsets.ReadOnlyModelViewSet):
    schema = AutoSchema()  # drf-spectacular's, whatever the project's DEFAULT_SCHEMA_CLASS
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [AdminViewPermission]
    renderer_classes = [JSONRenderer]
    filter_backends: list = []
    pagination_class = Cursor
    lookup_value_regex = "[^/]+"  # any id reaches the view, which answers 404 in JSON

    @property
    def permission_model(self):
        return self.queryset.model


@extend_schema(tags=[TAG])
class LineViewSet(ApiViewSet):
    """The campaign lines."""

    queryset = CampaignLine.objects.order_by("id")
    serializer_class = LineSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("start", str, description="The first day (YYYY-MM-DD); default: 29 days ago."),
            OpenApiParameter("end", str, description="The last day (YYYY-MM-DD); default: today."),
        ],
        responses=ResultsSerializer,
    )
    @action(detail=True, pagination_class=None, filter_backends=[], schema=AutoSchema())
    def results(self, request: Request, pk=None) -> Response:
        """Figures per day and per target over a date range (at most 366 days), as on the results page."""
        line = self.get_object()
        start, end = default_range()
        if "start" in request.query_params or "end" in request.query_params:
            form = StatsRangeForm(
                {"start": request.query_params.get("start", ""), "end": request.query_params.get("end", "")}
            )
            if not form.is_valid():
                raise ValidationError(
                    {("non_field_errors" if name == "__all__" else name): list(e) for name, e in form.errors.items()}
                )
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        return Response(ResultsSerializer(line_stats(line, start, end)).data)


@extend_schema(tags=[TAG])
class AttemptViewSet(ApiViewSet):
    """Call attempts, with their target legs."""

    queryset = CallAttempt.objects.prefetch_related(Prefetch("legs", queryset=CallLeg.objects.order_by("position")))
    serializer_class = AttemptSerializer
    pagination_class = AttemptCursor
    filter_backends = [DjangoFilterBackend]
    filterset_class = AttemptFilter
