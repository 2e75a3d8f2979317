"""Submitting a render: resolve the request once, dedup by render_key, enqueue after commit."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import ColorRecipe, TileProduct
from catalog.recipes import Recipe, RecipeError
from catalog.selectors import (
    palette_snapshot,
    product_get,
    recipe_list,
    recipe_of,
    recipe_validate,
)
from gpu_worker.engines.registry import engine_options_check, engine_version
from gpu_worker.params import ParamError, RenderParams, render_params_parse
from renders.errors import IdempotencyMismatch, QuotaExceeded, RenderRequestError
from renders.models import IdempotencyRecord, RenderJob, RenderQuotaDay
from renders.render_key import render_key_compute, render_request_normalise, seed_derive
from renders.selectors import render_job_active_or_done, render_jobs_created_today
from renders.services.dispatch import render_job_dispatch
from renders.services.profiles import model_profile_resolve
from renders.services.requests import render_request_record

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asks, as the transport authenticated them."""

    client_id: str
    label: str
    source: str
    user: User | None = None
    sees_unpublished: bool = False
    render_quota_per_day: int | None = None

    @classmethod
    def staff(cls, user: User) -> Requester:
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
    # Whether the request made the job. An idempotent replay answers as the first request
    # did (so a client that retries gets the same status), even though nothing is new now.
    created: bool
    # An Idempotency-Key seen before: this is the first request's answer, again.
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class RecipeChoice:
    """A recipe as asked for: its components, and the stored recipe it names, if any."""

    recipe: Recipe
    stored: ColorRecipe | None = None


MAX_RECIPE_ID_DIGITS = 18  # a bigint; longer digit strings are no id


def render_recipe_resolve(*, value: object) -> RecipeChoice:
    """A recipe id (int or digit string) names a stored recipe; anything else is parsed.

    Callers that submit one recipe many times resolve it once and pass the RecipeChoice.
    """
    if isinstance(value, RecipeChoice):
        return value
    text = value.strip() if isinstance(value, str) else ""
    if (isinstance(value, int) and not isinstance(value, bool)) or (
        text.isascii() and text.isdigit() and len(text) <= MAX_RECIPE_ID_DIGITS
    ):
        pk = value if isinstance(value, int) else int(text)
        stored = recipe_list().filter(pk=pk).first()
        if stored is None:
            raise RenderRequestError(
                f"there is no recipe with id {value}", fields={"recipe": [f"no recipe {value}"]}
            )
        return RecipeChoice(recipe=recipe_of(recipe=stored), stored=stored)
    try:
        return RecipeChoice(recipe=recipe_validate(value=value))
    except RecipeError as exc:
        raise RenderRequestError("recipe: " + exc.message, fields={"recipe": exc.problems}) from exc


# Engines whose `options.model` may name a model profile.
PROFILE_ENGINES = ("diffusion", "hybrid")


def _engine_params(params: RenderParams) -> tuple[RenderParams, str]:
    """(the params with a named model profile resolved, the model revision for the key).

    The engine must be enabled here, and its own options (`params.options`) good.
    """
    if params.engine not in settings.RENDER_ENGINES_ENABLED:
        message = f"engine {params.engine!r} is not enabled on this site"
        raise RenderRequestError(f"engine: {message}", fields={"engine": [message]})
    revision = ""
    if params.engine in PROFILE_ENGINES and "model" in params.options:
        options, revision = model_profile_resolve(options=params.options, angle=params.angle)
        params = replace(params, options=options)
    try:
        engine_options_check(params.engine, params.options)
    except ValueError as exc:
        raise RenderRequestError(str(exc), fields={"options": [str(exc)]}) from exc
    return params, revision


@dataclass(frozen=True, slots=True)
class _Request:
    """One render request, resolved: what the job row will say."""

    product: TileProduct
    stored_recipe: ColorRecipe | None
    recipe: Recipe
    params: RenderParams  # the seed resolved
    seed_derived: bool
    normalised: dict[str, Any]
    render_key: str


def _request_resolve(
    *, product_sku: str, recipe: object, params: RenderParams, requester: Requester
) -> _Request:
    product = product_get(sku=str(product_sku), include_unpublished=requester.sees_unpublished)
    if product is None:
        message = f"there is no product with SKU {product_sku!r}"
        if product_get(sku=str(product_sku), include_unpublished=True) is not None:
            message = f"product {product_sku!r} is not published yet; only staff may render it"
        raise RenderRequestError(message, fields={"product": [message]})
    choice = render_recipe_resolve(value=recipe)
    parsed, stored = choice.recipe, choice.stored
    params, model_revision = _engine_params(params)
    seed_derived = params.seed is None
    if params.seed is None:
        params = replace(params, seed=seed_derive(sku=product.sku, recipe=parsed))
    normalised = render_request_normalise(
        sku=product.sku, tile=product.geometry, recipe=parsed, params=params
    )
    key = render_key_compute(
        normalised=normalised,
        engine_version=engine_version(params.engine),
        model_revision=model_revision or None,
    )
    return _Request(
        product=product,
        stored_recipe=stored,
        recipe=parsed,
        params=params,
        seed_derived=seed_derived,
        normalised=normalised,
        render_key=key,
    )


def _job_create(*, request: _Request, queue: str, requester: Requester) -> RenderJob:
    return RenderJob.objects.create(
        product=request.product,
        recipe=request.stored_recipe,
        params=request.normalised,
        palette_snapshot=palette_snapshot(recipe=request.recipe),
        seed_derived=request.seed_derived,
        engine_version=engine_version(request.params.engine),
        model_revision="",
        render_key=request.render_key,
        queue=queue,
        source=requester.source,
        requested_by=requester.user,
        client_id=requester.client_id,
        client_label=requester.label,
    )


def _request_record(*, job: RenderJob, requester: Requester) -> None:
    render_request_record(job=job, client_id=requester.client_id, label=requester.label)


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
    return SubmitResult(job=record.job, created=record.created, replayed=True)


def render_job_submit(
    *,
    product_sku: str,
    recipe: object,
    params: RenderParams,
    requester: Requester,
    queue: str = RenderJob.Queue.INTERACTIVE,
    idempotency_key: str | None = None,
    fingerprint: str = "",
    force: bool = False,
    dispatch: bool = True,
) -> SubmitResult:
    """The job that renders this request: an existing identical one, or a new one.

    `recipe` is a stored recipe's id or a recipe in list or string form (parsed here, the
    one time in this request). A `params.seed` of None is derived from the product and
    recipe, so identical requests share one render. With `force`, a new job is made even
    if an identical render already succeeded. Without `dispatch` the caller runs the job
    itself (the CLI); the reconciler still sends it if the caller never does.
    """
    if idempotency_key:
        replay = _idempotent_replay(
            requester=requester, key=idempotency_key, fingerprint=fingerprint
        )
        if replay is not None:
            return replay  # the same request again: recorded the first time
    request = _request_resolve(
        product_sku=product_sku, recipe=recipe, params=params, requester=requester
    )
    if not idempotency_key and not force:
        # The common repeat (a shopper asking for a render someone already asked for) is
        # answered by a read, without the write transaction (on SQLite, its one lock).
        existing = render_job_active_or_done(render_key=request.render_key)
        if existing is not None:
            _request_record(job=existing, requester=requester)
            return SubmitResult(job=existing, created=False)
    with transaction.atomic():
        result = _job_find_or_create(
            request=request, queue=queue, requester=requester, force=force, dispatch=dispatch
        )
        _request_record(job=result.job, requester=requester)
        if idempotency_key:
            result = _idempotency_record(
                requester=requester, key=idempotency_key, fingerprint=fingerprint, result=result
            )
    return result


def render_job_resubmit(
    *,
    job: RenderJob,
    requester: Requester,
    queue: str,
    force: bool,
    follow_catalog: bool,
) -> SubmitResult:
    """Ask again for what `job` was asked for, through the same submit as everyone else.

    A derived seed is derived again, a chosen one kept. With `follow_catalog` the named
    recipe is read as it is today (the stale sweep); otherwise the recipe the job rendered.
    """
    stored = job.render_params.as_dict()
    if job.seed_derived:
        stored["seed"] = None
    try:
        # Checked again: the declarations' bounds may have narrowed since the job was made.
        params = render_params_parse(stored)
    except ParamError as exc:
        raise RenderRequestError(str(exc), fields={k: [v] for k, v in exc.fields.items()}) from exc
    recipe: object = job.recipe_canonical
    if follow_catalog and job.recipe_id is not None:
        recipe = job.recipe_id
    return render_job_submit(
        product_sku=job.product.sku,
        recipe=recipe,
        params=params,
        requester=requester,
        queue=queue,
        force=force,
    )


def _job_find_or_create(
    *, request: _Request, queue: str, requester: Requester, force: bool, dispatch: bool
) -> SubmitResult:
    existing = render_job_active_or_done(render_key=request.render_key)
    if existing is not None and (not force or not existing.is_terminal):
        return SubmitResult(job=existing, created=False)
    try:
        # A savepoint: the constraint may refuse a twin, and then the quota claimed for
        # it is given back with it.
        with transaction.atomic():
            render_quota_claim(requester=requester)
            job = _job_create(request=request, queue=queue, requester=requester)
    except IntegrityError:
        twin = RenderJob.objects.filter(
            render_key=request.render_key, status__in=RenderJob.ACTIVE
        ).first()
        if twin is None:
            raise
        return SubmitResult(job=twin, created=False)
    if dispatch:
        transaction.on_commit(lambda: render_job_dispatch(job_id=job.pk))
    return SubmitResult(job=job, created=True)


def render_quota_claim(*, requester: Requester) -> None:
    """Count one new render (or colour analysis: both take a worker's time) against the
    requester's daily quota, or raise QuotaExceeded.

    One conditional UPDATE is the check and the count together: two parallel submits
    cannot both take the last render of the day. Part of the caller's transaction, so a
    job that is not made gives its claim back.
    """
    quota = requester.render_quota_per_day
    if quota is None:
        return
    now = timezone.now()
    day = now.date()
    counter = RenderQuotaDay.objects.filter(client_id=requester.client_id, day=day)
    if counter.filter(used__lt=quota).update(used=F("used") + 1):
        return
    if not counter.exists():
        try:
            with transaction.atomic():
                # The first claim of the day starts from the jobs already made today
                # (jobs made before this counter existed count too).
                RenderQuotaDay.objects.create(
                    client_id=requester.client_id,
                    day=day,
                    used=render_jobs_created_today(client_id=requester.client_id),
                )
        except IntegrityError:
            pass  # a parallel submit made it first: claim from it as from any other
        if counter.filter(used__lt=quota).update(used=F("used") + 1):
            return
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    raise QuotaExceeded(
        f"the render quota of {quota} new renders a day is used up for "
        f"{requester.label}; identical renders are still answered",
        retry_after=max(1, math.ceil((tomorrow - now).total_seconds())),
    )


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
                created=result.created,
            )
    except IntegrityError:
        # The same key raced us; whatever it recorded is the answer.
        replay = _idempotent_replay(requester=requester, key=key, fingerprint=fingerprint)
        if replay is None:
            raise
        return replay
    return result
