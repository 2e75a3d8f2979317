"""Render endpoints: parse, authorise, call a service, shape the answer."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from plitka_site.api.permissions import IsStaff, caller_is_staff
from plitka_site.api.schema import ErrorEnvelopeSerializer
from plitka_site.apikeys.models import ApiKey
from renders.api.examples import POLL_EXAMPLES, SUBMIT_EXAMPLES
from renders.api.filters import RenderJobFilter
from renders.api.poll import (
    etag_matches,
    finished_jobs,
    job_etag,
    wait_asked,
    wait_for_change,
    wait_parameter,
)
from renders.api.serializers import (
    RenderJobSerializer,
    RenderSubmitSerializer,
    WorkerSerializer,
    expanded_fields,
)
from renders.errors import IdempotencyMismatch, JobConflict, QuotaExceeded, RenderRequestError
from renders.models import IdempotencyRecord, RenderJob, Worker
from renders.selectors import render_job_for_poll, render_job_list, worker_list
from renders.services import (
    Requester,
    render_job_cancel,
    render_job_submit,
    render_request_withdraw,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
# On the answer to a request whose Idempotency-Key was seen before (as Stripe names it).
REPLAYED_HEADER = "Idempotent-Replayed"
EXPANDABLE = ("telemetry",)


# The HTTP answer to each domain refusal; anything else a service refuses is a 400.
REFUSAL_STATUS: dict[type[RenderRequestError], int] = {
    QuotaExceeded: status.HTTP_429_TOO_MANY_REQUESTS,
    IdempotencyMismatch: status.HTTP_422_UNPROCESSABLE_ENTITY,
    JobConflict: status.HTTP_409_CONFLICT,
}


class RenderRequestRefused(APIException):
    """Carries a service's refusal into the error envelope with its status and code."""

    def __init__(self, error: RenderRequestError) -> None:
        super().__init__(detail=error.message, code=error.code)
        self.status_code = next(
            (REFUSAL_STATUS[kind] for kind in type(error).__mro__ if kind in REFUSAL_STATUS),
            status.HTTP_400_BAD_REQUEST,
        )
        self.fields = error.fields
        # DRF's handler sends `wait` as Retry-After (the quota: at the next UTC midnight).
        self.wait = getattr(error, "retry_after", None)


def requester_of(request: Request) -> Requester:
    if caller_is_staff(request) and isinstance(request.user, User):
        return Requester.staff(request.user)
    api_key = request.auth
    if not isinstance(api_key, ApiKey):  # the permission classes let no one else this far
        raise PermissionDenied("A staff session or an API key is required.")
    return Requester(
        client_id=api_key.client_id,
        label=api_key.name,
        source=RenderJob.Source.API,
        render_quota_per_day=api_key.render_quota_per_day,
    )


def fingerprint_of(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _idempotency_key(request: Request) -> str | None:
    """The Idempotency-Key header, or None; a 400 when it cannot be one (never cut short:
    two keys that differ only past the limit are two keys)."""
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not key:
        return None
    limit = IdempotencyRecord._meta.get_field("key").max_length or 200
    if len(key) > limit or not (key.isascii() and key.isprintable()):
        raise ValidationError(
            {IDEMPOTENCY_HEADER: [f"use 1 to {limit} printable ASCII characters, e.g. a UUID"]}
        )
    return key


class RenderJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Submit renders and follow them. A client lists, reads and cancels the jobs it asked
    for (identical requests share one job); staff see every job."""

    serializer_class = RenderJobSerializer
    filterset_class = RenderJobFilter
    ordering_fields = ["created_at", "finished_at", "status"]

    @extend_schema(
        parameters=[
            wait_parameter(
                "the job's status or progress differs from what the If-None-Match ETag (or, "
                "without one, the job now) says"
            ),
            OpenApiParameter(
                "expand",
                str,
                enum=list(EXPANDABLE),
                description="telemetry: include the resource samples' timeline.",
            ),
        ],
        responses={200: RenderJobSerializer, 304: None},
        examples=POLL_EXAMPLES,
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One job, as a storefront polls it (see renders/api/poll.py)."""
        wait = wait_asked(request)
        asked = expanded_fields(request)
        if unknown := sorted(asked - {"", *EXPANDABLE}):
            raise ValidationError(
                {
                    "expand": [
                        f"cannot expand {', '.join(unknown)[:100]}; only: {', '.join(EXPANDABLE)}"
                    ]
                }
            )
        expand = "telemetry" if "telemetry" in asked else ""
        # Staff see more of a job than clients do, and a client only the jobs it asked
        # for: bodies and ETags are kept apart by role, and clients' by client.
        client = self._client_id()
        expand += "|staff" if client is None else "|client"
        seen = request.headers.get("If-None-Match", "")
        key = (str(kwargs.get("pk", "")), expand, request.build_absolute_uri("/"), client or "")
        remembered = finished_jobs.get(key)
        busy = False
        if remembered is None:
            job = self.get_object()  # a client's own request only, else 404
            withdrawn = getattr(job, "request_withdrawn_at", None) is not None
            if withdrawn:
                expand += "|withdrawn"  # the client canceled: its view of the job is final
            etag = job_etag(job, expand=expand)
            final = job.is_terminal or withdrawn
            if wait and not final and (not seen or etag_matches(seen, etag)):
                status_now = (job.status, job.progress)

                def unchanged() -> bool:
                    row = RenderJob.objects.filter(pk=job.pk).values_list("status", "progress")
                    return row.first() == status_now

                if wait_for_change(job_id=str(job.pk), seconds=wait, unchanged=unchanged):
                    job = self.get_object()
                    etag = job_etag(job, expand=expand)
                else:
                    # No waiting slot free: answered now, with a hint to come back later
                    # rather than at once.
                    busy = True
            body = self.get_serializer(job).data
            if job.is_terminal and not withdrawn:
                # Final for good: a finished job's requests can no longer be withdrawn (a
                # withdrawn one can be asked again, so its body is not kept).
                finished_jobs.put(key, etag, body)
        else:
            etag, body = remembered
        headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
        if busy:
            headers["Retry-After"] = "1"
        if etag_matches(seen, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(body, headers=headers)

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # The list's filters and ordering mean nothing to one job read by id (the poll),
        # and building the filter set cost a fifth of each poll.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_queryset(self) -> QuerySet[RenderJob]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return RenderJob.objects.none()
        client = self._client_id()
        if self.action == "retrieve":
            return render_job_for_poll(client_id=client)
        return render_job_list(client_id=client)

    def _client_id(self) -> str | None:
        """None for staff (every job), else the client whose requests bound what it sees."""
        if caller_is_staff(self.request):
            return None
        return requester_of(self.request).client_id

    @extend_schema(
        request=RenderSubmitSerializer,
        responses={
            201: RenderJobSerializer,
            200: RenderJobSerializer,
            422: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="The Idempotency-Key was used with another body.",
            ),
            429: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="The key's rate or its daily render quota is used up "
                "(Retry-After says until when).",
            ),
        },
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                {"type": "string", "maxLength": 200},
                OpenApiParameter.HEADER,
                description="Printable ASCII, e.g. a UUID: a retry with the same key and body "
                "is answered as the first request was, for 24 h; with another body, 422.",
            ),
            OpenApiParameter(
                REPLAYED_HEADER,
                {"type": "string", "enum": ["true"]},
                OpenApiParameter.HEADER,
                response=[200, 201],
                description="Present on the answer to a retry: the first request's answer.",
            ),
        ],
        examples=SUBMIT_EXAMPLES,
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        payload = RenderSubmitSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        key = _idempotency_key(request)
        try:
            result = render_job_submit(
                product_sku=payload.validated_data["product"],
                recipe=payload.validated_data["recipe"],
                params=payload.render_params(),
                requester=requester_of(request),
                idempotency_key=key,
                fingerprint=fingerprint_of(request.data),
            )
        except RenderRequestError as exc:
            raise RenderRequestRefused(exc) from exc
        job = render_job_list(client_id=self._client_id()).get(pk=result.job.pk)
        body = RenderJobSerializer(job, context=self.get_serializer_context()).data
        headers = {"Location": request.build_absolute_uri(f"{job.pk}/")}
        if result.replayed:
            headers[REPLAYED_HEADER] = "true"
        answer = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(body, status=answer, headers=headers)

    @extend_schema(
        request=None,
        responses={
            200: RenderJobSerializer,
            409: OpenApiResponse(ErrorEnvelopeSerializer, description="The job has finished."),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Staff cancel the job; a client withdraws its own request, and the job is canceled
        only when no other request waits for it."""
        job = self.get_object()  # a client's own request only, else 404
        client = self._client_id()
        try:
            if client is None:
                render_job_cancel(job_id=job.pk)
            else:
                render_request_withdraw(job_id=job.pk, client_id=client)
        except RenderRequestError as exc:
            raise RenderRequestRefused(exc) from exc
        body = RenderJobSerializer(
            render_job_list(client_id=client).get(pk=job.pk),
            context=self.get_serializer_context(),
        ).data
        return Response(body, status=status.HTTP_200_OK)


class WorkerViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Render workers: device, memory, loaded pipelines, current job, last heartbeat."""

    serializer_class = WorkerSerializer
    permission_classes = [IsStaff]
    pagination_class = None
    filter_backends: list[type] = []  # a short list in one fixed order

    def get_queryset(self) -> QuerySet[Worker]:
        return worker_list()
