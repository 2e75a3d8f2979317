"""Submitting a render: validate once, dedup by render_key, enqueue after commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import ColorRecipe, TileProduct
from catalog.recipes import Recipe, RecipeError
from catalog.selectors import product_get, recipe_of, recipe_validate
from gpu_worker.engines.registry import engine_version
from renders.errors import IdempotencyMismatch, QuotaExceeded, RenderRequestError
from renders.models import IdempotencyRecord, RenderJob
from renders.params import ParamError, RenderParams, render_key_compute
from renders.selectors import render_job_active_or_done, render_jobs_created_today
from renders.services.dispatch import render_job_dispatch
from renders.specs import recipe_snapshot, render_params_for

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asks, as the transport authenticated them."""

    client_id: str
    label: str
    source: str
    user: AbstractBaseUser | None = None
    sees_unpublished: bool = False
    render_quota_per_day: int | None = None

    @classmethod
    def staff(cls, user: AbstractBaseUser) -> Requester:
        """A staff member, from the admin or with an admin session on the API."""
        return cls(
            client_id=f"user:{user.pk}",
            label=user.get_username(),
            source=RenderJob.Source.ADMIN,
            user=user,
            sees_unpublished=True,
        )


@dataclass(frozen=True, slots=True)
class SubmitResult:
    job: RenderJob
    created: bool
    http_status: int


def _recipe_resolve(value: object) -> tuple[Recipe, ColorRecipe | None]:
    """A recipe id (int or digit string) names a stored recipe; anything else is parsed."""
    if (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.strip().isdigit()
    ):
        stored = ColorRecipe.objects.filter(pk=int(value)).first()  # type: ignore[arg-type]
        if stored is None:
            raise RenderRequestError(
                f"there is no recipe with id {value}", fields={"recipe": [f"no recipe {value}"]}
            )
        return recipe_of(recipe=stored), stored
    try:
        return recipe_validate(value=value), None
    except RecipeError as exc:
        raise RenderRequestError("recipe: " + exc.message, fields={"recipe": exc.problems}) from exc


def render_params_resolve(
    *, product_sku: str, recipe: object, requester: Requester, **values: Any
) -> tuple[TileProduct, ColorRecipe | None, RenderParams]:
    product = product_get(sku=str(product_sku), include_unpublished=requester.sees_unpublished)
    if product is None:
        message = f"there is no product with SKU {product_sku!r}"
        raise RenderRequestError(message, fields={"product": [message]})
    parsed, stored = _recipe_resolve(recipe)
    try:
        params = render_params_for(product=product, recipe=parsed, **values)
    except ParamError as exc:
        raise RenderRequestError(str(exc), fields={k: [v] for k, v in exc.fields.items()}) from exc
    return product, stored, params


def _job_create(
    *,
    product: TileProduct,
    stored_recipe: ColorRecipe | None,
    params: RenderParams,
    render_key: str,
    queue: str,
    requester: Requester,
) -> RenderJob:
    return RenderJob.objects.create(
        product=product,
        recipe=stored_recipe,
        recipe_canonical=params.recipe.canonical,
        recipe_snapshot=recipe_snapshot(params.recipe),
        engine=params.engine,
        engine_version=engine_version(params.engine),
        model_revision="",
        view=params.view,
        angle=params.angle,
        size=params.size,
        seed=params.seed,
        quality=params.quality,
        options=dict(params.options),
        params=params.as_dict(),
        render_key=render_key,
        queue=queue,
        source=requester.source,
        requested_by=requester.user,
        client_id=requester.client_id,
        client_label=requester.label,
    )


def _idempotent_replay(*, requester: Requester, key: str, fingerprint: str) -> SubmitResult | None:
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    records = IdempotencyRecord.objects.filter(client_id=requester.client_id, key=key)
    records.filter(created_at__lt=cutoff).delete()
    record = records.select_related("job").first()
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise IdempotencyMismatch(
            f"Idempotency-Key {key!r} was already used with a different request body in the "
            "last 24 h; use a new key for a new request",
            fields={"Idempotency-Key": ["reused with a different body"]},
        )
    return SubmitResult(job=record.job, created=False, http_status=record.response_status)


def render_job_submit(
    *,
    product_sku: str,
    recipe: object,
    requester: Requester,
    queue: str = RenderJob.Queue.INTERACTIVE,
    idempotency_key: str | None = None,
    fingerprint: str = "",
    force: bool = False,
    **values: Any,
) -> SubmitResult:
    """Return the job that renders this request: an existing one (200) or a new one (201).

    `values` are the render parameters (view, angle, size, engine, seed, quality, options).
    With `force`, a new job is made even if an identical render already succeeded.
    """
    if idempotency_key:
        replay = _idempotent_replay(
            requester=requester, key=idempotency_key, fingerprint=fingerprint
        )
        if replay is not None:
            return replay
    product, stored_recipe, params = render_params_resolve(
        product_sku=product_sku, recipe=recipe, requester=requester, **values
    )
    render_key = render_key_compute(
        params=params, engine_version=engine_version(params.engine), model_revision=None
    )

    with transaction.atomic():
        result = _job_find_or_create(
            product=product,
            stored_recipe=stored_recipe,
            params=params,
            render_key=render_key,
            queue=queue,
            requester=requester,
            force=force,
        )
        if idempotency_key:
            result = _idempotency_record(
                requester=requester, key=idempotency_key, fingerprint=fingerprint, result=result
            )
    return result


def _job_find_or_create(
    *,
    product: TileProduct,
    stored_recipe: ColorRecipe | None,
    params: RenderParams,
    render_key: str,
    queue: str,
    requester: Requester,
    force: bool,
) -> SubmitResult:
    existing = render_job_active_or_done(render_key=render_key)
    if existing is not None and (not force or not existing.is_terminal):
        return SubmitResult(job=existing, created=False, http_status=200)
    quota = requester.render_quota_per_day
    if quota is not None and render_jobs_created_today(client_id=requester.client_id) >= quota:
        raise QuotaExceeded(
            f"the render quota of {quota} new renders a day is used up for "
            f"{requester.label}; identical renders are still answered",
        )
    try:
        with transaction.atomic():  # a savepoint: the constraint may refuse a twin
            job = _job_create(
                product=product,
                stored_recipe=stored_recipe,
                params=params,
                render_key=render_key,
                queue=queue,
                requester=requester,
            )
    except IntegrityError:
        twin = RenderJob.objects.filter(render_key=render_key, status__in=RenderJob.ACTIVE).first()
        if twin is None:
            raise
        return SubmitResult(job=twin, created=False, http_status=200)
    transaction.on_commit(lambda: render_job_dispatch(job_id=job.pk))
    return SubmitResult(job=job, created=True, http_status=201)


def _idempotency_record(
    *, requester: Requester, key: str, fingerprint: str, result: SubmitResult
) -> SubmitResult:
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(
                client_id=requester.client_id,
                key=key,
                request_hash=fingerprint,
                job=result.job,
                response_status=result.http_status,
            )
    except IntegrityError:
        # The same key raced us; whatever it recorded is the answer.
        replay = _idempotent_replay(requester=requester, key=key, fingerprint=fingerprint)
        if replay is None:
            raise
        return replay
    return result
