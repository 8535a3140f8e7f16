from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "mibg.web.courses"
    label = "courses"
