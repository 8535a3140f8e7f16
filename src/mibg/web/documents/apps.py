from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "mibg.web.documents"
    label = "documents"
