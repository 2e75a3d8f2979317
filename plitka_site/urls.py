from django.conf import settings
from django.contrib import admin
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import TemplateView
from django.views.i18n import JavaScriptCatalog
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from renders.admin_dashboard import operations_dashboard
from renders.metrics import metrics_view
from renders.views import configurator_page

admin.site.site_header = "Plitka render backend"
admin.site.site_title = "Plitka admin"
# The app list is on the index page and in the breadcrumbs; the side bar took 300 px that
# the job list needs at 1280 px.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("configurator/", configurator_page, name="configurator"),
    # The pages' scripts read their words in the visitor's language from here.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path(
        "admin/operations/",
        admin.site.admin_view(operations_dashboard),
        name="operations-dashboard",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("catalog.api.urls")),
    path("api/v1/", include("renders.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("metrics", metrics_view, name="metrics"),
    # Browsers ask for it on every page that names none (the API's JSON, for one).
    path("favicon.ico", lambda request: redirect(static("plitka/favicon.svg"), permanent=True)),
]


def media(request: HttpRequest, path: str) -> HttpResponse | FileResponse:
    """Rendered images from MEDIA_ROOT, for single-machine setups (SERVE_MEDIA)."""
    if not settings.SERVE_MEDIA:
        raise Http404("media is served by the storage or the front web server")
    return serve(request, path, document_root=str(settings.MEDIA_ROOT))


if settings.MEDIA_URL.startswith("/"):
    urlpatterns.append(path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media))

handler404 = "plitka_site.api.errors.json_or_html_404"
handler500 = "plitka_site.api.errors.json_or_html_500"
