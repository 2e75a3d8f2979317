import django_filters

from renders.models import RenderJob


class RenderJobFilter(django_filters.FilterSet):
    product = django_filters.CharFilter(field_name="product__sku")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = RenderJob
        fields = ["product", "status", "source", "engine", "queue"]
