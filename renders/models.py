"""Render jobs and their audit trail. The RenderJob row is the source of truth."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from catalog.geometry import TileGeometry
from catalog.recipes import Recipe
from gpu_worker.engines.diffusion.options import DTYPES, SCHEDULERS
from gpu_worker.params import RenderParams


class RenderJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        CANCELED = "canceled", _("canceled")

    class Queue(models.TextChoices):
        INTERACTIVE = "interactive"
        BATCH = "batch"

    class Source(models.TextChoices):
        ADMIN = "admin"
        API = "api"
        SCHEDULE = "schedule"
        CLI = "cli"
        EXPERIMENT = "experiment"

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    TERMINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    # What to render: a snapshot, so history shows what was rendered after edits.
    product = models.ForeignKey(
        "catalog.TileProduct", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    recipe = models.ForeignKey(
        "catalog.ColorRecipe",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The named recipe asked for, if any; the snapshot is what was rendered."),
        verbose_name=_("recipe"),
    )
    # The request, normalised, is kept once: `params` holds the product's geometry and the
    # recipe as they were asked for, and every render parameter (gpu_worker.params).
    params = models.JSONField(
        _("parameters"),
        help_text=_(
            "The normalised request as hashed into render_key: product geometry, "
            "recipe and render parameters."
        ),
    )
    palette_snapshot = models.JSONField(
        _("palette snapshot"),
        default=dict,
        help_text=_(
            "The measured colours of the recipe's granules when it was asked for: "
            "what the render uses, whatever the palette says later."
        ),
    )
    seed_derived = models.BooleanField(
        _("seed derived"),
        default=False,
        help_text=_("The caller gave no seed: it was derived from the product and the recipe."),
    )
    engine_version = models.CharField(_("engine version"), max_length=32)
    model_revision = models.CharField(_("model revision"), max_length=128, blank=True)
    render_key = models.CharField(_("render key"), max_length=64, db_index=True)

    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    queue = models.CharField(
        _("queue"), max_length=16, choices=Queue.choices, default=Queue.INTERACTIVE
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    client_id = models.CharField(_("client id"), max_length=64, blank=True, db_index=True)
    client_label = models.CharField(_("requested by"), max_length=150, blank=True)

    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    device = models.CharField(_("device"), max_length=200, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)

    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    first_progress_at = models.DateTimeField(_("first progress"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    result_image = models.FileField(_("picture"), max_length=255, blank=True)
    result_thumbnail = models.FileField(_("thumbnail"), max_length=255, blank=True)
    result_width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    result_height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    fidelity = models.JSONField(_("fidelity"), null=True, blank=True)

    class Meta:
        verbose_name = _("render job")
        verbose_name_plural = _("render jobs")
        ordering = ["-created_at"]
        constraints = [
            # Concurrent identical submits must make one job: the database decides.
            models.UniqueConstraint(
                fields=["render_key"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_job_per_render_key",
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0, progress__lte=100), name="job_progress_0_100"
            ),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        params = self.render_params
        return f"{self.recipe_canonical} {params.view} {params.angle}° [{self.status}]"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def render_params(self) -> RenderParams:
        """The render parameters this job was asked for (seed resolved)."""
        return RenderParams.from_normalised(self.params)

    @property
    def recipe_canonical(self) -> str:
        """The recipe rendered, canonical string form (e.g. `BLACK:40,RED:60`)."""
        return str(self.params["recipe"])

    @property
    def recipe_rendered(self) -> Recipe:
        """The recipe rendered (parsed and validated once, at submit; read back here)."""
        return Recipe.from_canonical(self.recipe_canonical)

    @property
    def tile(self) -> TileGeometry:
        """The product's geometry as it was when the job was asked for."""
        return TileGeometry.from_dict(self.params["product"])


class RenderTelemetry(models.Model):
    """What a render cost, recorded by the worker that ran it."""

    job = models.OneToOneField(RenderJob, on_delete=models.CASCADE, related_name="telemetry")
    queue_wait_s = models.FloatField(
        null=True, help_text=_("From the request to a worker taking the job (not in total_s).")
    )
    time_to_first_progress_s = models.FloatField(
        null=True, help_text=_("From the request to the first progress a storefront could show.")
    )
    # The parts of total_s; they add up to it (other_s takes the rest).
    load_s = models.FloatField(
        null=True, help_text=_("Loading the engine or model (near 0 when cache_hit).")
    )
    inference_s = models.FloatField(
        null=True, help_text=_("Drawing the picture: the engine's render or the model's denoising.")
    )
    postprocess_s = models.FloatField(
        null=True,
        help_text=_(
            "The engine's post-processing (colour correction, shading) and encoding "
            "the PNG and the thumbnail."
        ),
    )
    store_s = models.FloatField(null=True, help_text=_("Writing both files to media storage."))
    other_s = models.FloatField(
        null=True,
        help_text=_(
            "The rest of total_s: claiming the job, measuring its colours, progress "
            "and heartbeat writes, publishing the catalog image."
        ),
    )
    total_s = models.FloatField(
        null=True, help_text=_("From a worker taking the job to its result recorded.")
    )
    engine_render_s = models.FloatField(
        null=True,
        help_text=_(
            "The engine's whole render call (inference, post-processing and colour "
            "measurement inside it); for comparing engines, not a part of total_s."
        ),
    )
    cache_hit = models.BooleanField(
        null=True, help_text=_("The engine or model was already loaded in this worker.")
    )
    oom_retries = models.PositiveSmallIntegerField(
        default=0, help_text=_("Out-of-memory errors retried with lighter settings.")
    )
    batch_size = models.PositiveSmallIntegerField(
        default=1,
        help_text=_("Pictures made in the same engine call; times and samples are the batch's."),
    )
    peak_device_memory_mb = models.FloatField(
        null=True, help_text=_("GPU memory in use at its highest during the job (null on CPU).")
    )
    total_device_memory_mb = models.FloatField(null=True, help_text=_("The GPU's memory."))
    memory_budget_mb = models.FloatField(
        null=True, help_text=_("The share of it this worker may fill with cached models.")
    )
    gpu_util_mean = models.FloatField(null=True, help_text=_("GPU utilisation, percent, mean."))
    gpu_util_max = models.FloatField(null=True, help_text=_("GPU utilisation, percent, highest."))
    cpu_percent_mean = models.FloatField(
        null=True, help_text=_("The worker process's CPU, percent of one core, mean.")
    )
    rss_peak_mb = models.FloatField(
        null=True, help_text=_("The worker's resident memory, highest.")
    )
    device_name = models.CharField(max_length=200, blank=True, help_text=_("Where it ran."))
    versions = models.JSONField(
        default=dict, help_text=_("Library and engine versions (empty for storefront keys).")
    )
    timeline = models.JSONField(default=list, help_text=_("Samples at most 2 s apart."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("render telemetry")
        verbose_name_plural = _("render telemetry")

    def __str__(self) -> str:
        return f"telemetry of {self.job_id}"


class RenderRequest(models.Model):
    """One client's request for a job. Identical requests share one job (dedup), so a job
    may have several: each client sees the job in its own list, reads it by id, and cancels
    only its own interest; the render stops when no request is left waiting for it."""

    job = models.ForeignKey(
        RenderJob, on_delete=models.CASCADE, related_name="requests", verbose_name=_("job")
    )
    client_id = models.CharField(_("client id"), max_length=64)
    client_label = models.CharField(_("requested by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(
        _("withdrawn"),
        null=True,
        blank=True,
        help_text=_("The client canceled its request (the job may go on)."),
    )

    class Meta:
        verbose_name = _("render request")
        verbose_name_plural = _("render requests")
        constraints = [
            models.UniqueConstraint(fields=["job", "client_id"], name="one_request_per_client")
        ]
        indexes = [models.Index(fields=["client_id", "job"])]

    def __str__(self) -> str:
        return f"{self.client_label or self.client_id} -> {self.job_id}"


class IdempotencyRecord(models.Model):
    """A client's Idempotency-Key and the job it made, kept for 24 h."""

    client_id = models.CharField(max_length=64)
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    job = models.ForeignKey(RenderJob, on_delete=models.CASCADE, related_name="+")
    created = models.BooleanField(help_text=_("Whether the first request made the job."))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client_id", "key"], name="idempotency_key_per_client")
        ]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.key}"


class RenderQuotaDay(models.Model):
    """New renders one client made on one UTC day: the daily quota's counter.

    Claimed with one conditional UPDATE (used = used + 1 where used < quota), so parallel
    submits can never together pass the quota, on PostgreSQL or SQLite.
    """

    client_id = models.CharField(max_length=64)
    day = models.DateField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client_id", "day"], name="render_quota_per_client_day")
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.day}: {self.used}"


class Worker(models.Model):
    """A render worker process as it last reported itself."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    hostname = models.CharField(_("hostname"), max_length=200)
    pid = models.PositiveIntegerField(_("process id"))
    device = models.CharField(_("device"), max_length=200)
    device_memory_total_mb = models.FloatField(_("device memory total, MB"), null=True)
    device_memory_used_mb = models.FloatField(_("device memory used, MB"), null=True)
    memory_budget_mb = models.FloatField(_("memory budget, MB"), null=True)
    loaded_pipelines = models.JSONField(_("loaded models"), default=list)
    current_job = models.ForeignKey(
        RenderJob,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("current job"),
    )
    cpu_percent = models.FloatField(_("CPU, %"), null=True)
    rss_mb = models.FloatField(_("process memory (RSS), MB"), null=True)
    started_at = models.DateTimeField(_("started"))
    last_heartbeat = models.DateTimeField(_("last heartbeat"), db_index=True)

    class Meta:
        verbose_name = _("worker")
        verbose_name_plural = _("workers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def alive(self) -> bool:
        """Heard from within RENDER_HEARTBEAT_STALE_S."""
        from django.conf import settings
        from django.utils import timezone

        age = (timezone.now() - self.last_heartbeat).total_seconds()
        return age < settings.RENDER_HEARTBEAT_STALE_S


class ModelProfile(models.Model):
    """A diffusion model as staff set it up: base weights, adapters, ControlNets by angle.

    A job names a profile (`options.model`); at submit its settings are copied into the
    job's options, so a job renders what the profile said when it was asked for, and the
    profile's revision goes into its render key.
    """

    name = models.SlugField(max_length=64, unique=True)
    base_model = models.CharField(
        max_length=500, help_text=_("The weights' folder on the GPU workers (diffusers layout).")
    )
    revision = models.CharField(
        max_length=100,
        blank=True,
        help_text=_(
            "The weights' revision (a commit hash, or the sha256 a worker reported); "
            "changing it makes every render of this profile stale."
        ),
    )
    textual_inversions = models.JSONField(
        default=list, blank=True, help_text='[{"path": FILE, "token": "<word>"}, ...]'
    )
    loras = models.JSONField(default=list, blank=True, help_text='[{"path": FILE, "scale": 0.8}]')
    controlnets = models.JSONField(
        default=dict, blank=True, help_text='ControlNet folder per type: {"canny": DIR, ...}'
    )
    control_by_angle = models.JSONField(
        default=list,
        blank=True,
        help_text='Rows {"up_to": 44, "type": "canny", "scale": 0.5}: the first row whose '
        '"up_to" (degrees) is at least the job\'s angle picks the ControlNet; "off" for none.',
    )
    dtype = models.CharField(
        max_length=16,
        choices=[(d, d) for d in DTYPES],
        default="auto",
        help_text=_("The weights' number type on the GPU; auto is float16."),
    )
    scheduler = models.CharField(
        max_length=20,
        choices=[(s, s) for s in SCHEDULERS],
        default="default",
        help_text=_("The noise scheduler; default is the one the model was saved with."),
    )
    preset_steps = models.JSONField(
        default=dict,
        blank=True,
        help_text='Denoising steps per quality preset for this model, e.g. {"draft": 8}; '
        "the standard 12 / 25 / 40 where it names none.",
    )
    prompt = models.CharField(
        max_length=300,
        blank=True,
        help_text=_(
            "The model's prompt template: {colours} (required), {tokens} (its textual "
            "inversions' words), {granules}, {view}. Empty: the SDXL base template."
        ),
    )
    is_active = models.BooleanField(default=True)
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("model profile")
        verbose_name_plural = _("model profiles")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Experiment(models.Model):
    """A grid of hybrid renders of one product and recipe: each angle with each ControlNet
    setting (a type and scale, or off), to choose the profile's ControlNet per angle."""

    profile = models.ForeignKey(ModelProfile, on_delete=models.CASCADE, related_name="experiments")
    product = models.ForeignKey("catalog.TileProduct", on_delete=models.PROTECT, related_name="+")
    recipe = models.ForeignKey("catalog.ColorRecipe", on_delete=models.PROTECT, related_name="+")
    view = models.CharField(max_length=16, default="perspective")
    size = models.PositiveIntegerField(default=1024)
    quality = models.CharField(max_length=16, default="standard")
    seed = models.PositiveIntegerField(default=0, help_text=_("One seed for every cell."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    adopted_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When its winners became the profile's table.")
    )

    class Meta:
        verbose_name = _("experiment")
        verbose_name_plural = _("experiments")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.profile.name}: {self.product.sku}, {self.recipe.name} #{self.pk}"


class ExperimentCell(models.Model):
    """One render of an experiment: an angle with one ControlNet setting."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="cells")
    angle = models.PositiveSmallIntegerField()
    control = models.CharField(max_length=16, help_text='A ControlNet type, or "off".')
    scale = models.FloatField(default=0.0, help_text=_("Conditioning scale (0 when off)."))
    job = models.ForeignKey(
        RenderJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["angle", "control", "scale"]
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "angle", "control", "scale"], name="one_cell_per_setting"
            )
        ]

    def __str__(self) -> str:
        setting = self.control if self.control == "off" else f"{self.control} {self.scale:g}"
        return f"{self.angle}° {setting}"


class Webhook(models.Model):
    """A callback URL an API key registered: told when a render it asked for finishes.

    The secret signs every delivery (HMAC-SHA256); it must be kept to be used, so it is
    stored as it is and shown to the client once, when the webhook is made.
    """

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    api_key = models.ForeignKey(
        "apikeys.ApiKey",
        on_delete=models.CASCADE,
        related_name="webhooks",
        verbose_name=_("api key"),
    )
    url = models.URLField(_("URL"), max_length=2000)
    secret = models.CharField(_("secret"), max_length=80, editable=False)
    base_url = models.URLField(
        _("API base URL"),
        max_length=300,
        help_text=_("Where the client reached the API: the payloads' URLs use it."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    removed_at = models.DateTimeField(
        _("removed"),
        null=True,
        blank=True,
        help_text=_("Removed by its client: nothing more is sent to it."),
    )

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["api_key", "removed_at"])]

    def __str__(self) -> str:
        return self.url

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one webhook, with every attempt's outcome."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("webhook")
    )
    job = models.ForeignKey(
        RenderJob, on_delete=models.CASCADE, related_name="+", verbose_name=_("job")
    )
    event = models.CharField(_("event"), max_length=40)
    # The exact bytes sent, built once: every retry sends the same body.
    payload = models.TextField(_("payload"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), db_index=True)
    # A sender owns the delivery until then (so two never send at once); a sender that
    # died is replaced after it.
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("last status code"), null=True, blank=True
    )
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    log = models.JSONField(
        _("attempts"),
        default=list,
        help_text=_(
            "Each attempt: when, the URL tried, the answer's status or the error, "
            "and how long it took."
        ),
    )

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "job", "event"], name="one_delivery_per_webhook_job_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.job_id} -> {self.webhook.url}"


class ColourAnalysis(models.Model):
    """A photo's colours measured on a worker: which stock colours, what shares, and, told a
    recipe, whether the photo passes it. Audited like a render job: who asked, on which
    worker, in how long."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    TERMINAL = (Status.SUCCEEDED, Status.FAILED)

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    # Stored under its SHA-256 (analyses/ab/<sha256>.<ext>): nothing a client sends is a path.
    image = models.FileField(_("image"), upload_to="analyses/", max_length=255)
    image_sha256 = models.CharField(_("image SHA-256"), max_length=64, db_index=True)
    image_format = models.CharField(_("image format"), max_length=8)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    recipe_canonical = models.CharField(
        _("recipe"), max_length=200, blank=True, help_text=_("The recipe to check against, if any.")
    )
    tolerance_pp = models.FloatField(
        _("tolerance, pp"), default=3.0, help_text=_("Largest share error that still passes.")
    )
    source = models.CharField(_("source"), max_length=16, choices=RenderJob.Source.choices)
    client_id = models.CharField(_("client id"), max_length=64, db_index=True)
    client_label = models.CharField(_("requested by"), max_length=150, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    result = models.JSONField(
        _("result"),
        null=True,
        blank=True,
        help_text=_(
            "Colours with shares, confidence and runner-up; the nearest mix and "
            "recipes; told a recipe, its check."
        ),
    )
    telemetry = models.JSONField(
        _("telemetry"),
        default=dict,
        blank=True,
        help_text=_(
            "Seconds per step (queue_wait_s, decode_s, identify_s, check_s, total_s) "
            "and the worker's peak resident memory."
        ),
    )

    class Meta:
        verbose_name = _("colour analysis")
        verbose_name_plural = _("colour analyses")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.pk} [{self.status}]"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL
