from typing import Any

from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "mibg.web.followup"
    label = "followup"
    verbose_name = "Follow-up: labs, transfusions, adverse events, response"

    def ready(self) -> None:
        from mibg.web.changes import inputs_changed

        inputs_changed.connect(_derive_again, dispatch_uid="followup.rederive")


def _derive_again(sender: Any, *, user: Any, course: Any, why: str, **_: Any) -> None:
    """An earlier step changed an input of the stored grades and count recovery (mibg.web.changes)."""
    from mibg.web.followup.services import rederive

    rederive(user, course, why)
