"""Focus-group sessions through the API: list and create a study's sessions, and read a session's
group summary (the discussion board as JSON, under the same three-sort rule as the room)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from qsort.api.views import AUTHENTICATION, Endpoint
from qsort.rooms import services
from qsort.rooms.models import MAX_SEATS, Session
from qsort.studies.access import Can, access_for


class SessionSerializer(serializers.ModelSerializer):
    seats = serializers.IntegerField(min_value=1, max_value=MAX_SEATS)
    joined = serializers.SerializerMethodField()
    join_url = serializers.SerializerMethodField()

    class Meta:
        model = Session
        fields = ["id", "name", "place", "starts_at", "seats", "status", "joined", "join_url", "created_at"]
        read_only_fields = ["id", "status", "created_at"]

    def get_joined(self, session: Session) -> int:
        return session.members.count()

    def get_join_url(self, session: Session) -> str | None:
        """The join link is a way in: only for roles that run sessions."""
        return session.join_url if self.context.get("can_edit") else None


class GroupTooSmallError(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "group_too_small"


class SessionList(Endpoint, generics.ListCreateAPIView[Session]):
    """A study's sessions (every role); owner and facilitators create one with `POST`."""

    serializer_class = SessionSerializer
    pagination_class = None

    def get_queryset(self):
        return self.study().sessions.order_by("-created_at", "-id")

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "can_edit": self.access().can_edit}

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.save(study=self.study(), created_by=self.request.user)


class SessionSummary(APIView):
    """The session's group summary: agree most, reject most, split, the heat map and (if the study
    allows it) anonymous comments. 409 until at least three of its sorts are complete."""

    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "condition", str, required=False, description="A condition's label; the study's first by default."
            )
        ],
        responses={
            200: OpenApiResponse(description="The group summary."),
            409: OpenApiResponse(description="Fewer than three complete sorts: no summary, nothing revealed."),
        },
    )
    def get(self, request: Request, session_id: int) -> Response:
        session = get_object_or_404(Session.objects.select_related("study"), pk=session_id)
        access_for(request.user, session.study.slug, Can.VIEW)
        condition = services.board_condition(session, request.query_params.get("condition"))
        if condition is None:
            raise ValidationError({"condition": ["This study has no condition with that label."]})
        try:
            board = services.session_board(session, condition)
        except services.GroupTooSmall:
            completed = services.completed_under(session, condition)
            raise GroupTooSmallError(services.board_refusal(completed)) from None
        return Response({"session": session.pk, "name": session.name, **board.as_json()})
