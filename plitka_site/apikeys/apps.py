from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "plitka_site.apikeys"
    label = "apikeys"
    verbose_name = "API keys"
