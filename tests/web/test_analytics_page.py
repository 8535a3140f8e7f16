"""The programme analytics page (issue 13 §6): each plot with its table and its CSV, read by a monitor."""

from __future__ import annotations

import csv
import io

from mibg.web.audit.models import AuditEvent


def test_morgan_the_monitor_reads_every_plot_with_its_table_and_downloads_each_csv(login, make_course, people):
    from mibg.web.followup import demo as followup_demo

    course = make_course(until="follow-up", days_ahead=-20)
    followup_demo.counts_after(people["nora"], course)
    client = login("morgan")
    page = client.get("/analytics/")
    assert page.status_code == 200
    text = page.content.decode()
    for key in ("platelet-nadir", "anc-nadir", "recovery-days", "rescue-by-band"):
        assert f'id="{key}"' in text
        assert f"/analytics/{key}.csv" in text
    assert text.count("<svg") == 4
    assert "at least 3 courses with both values are needed" in text  # one course: no rho, and the page says why
    assert "4 Gy or more" in text
    for key, header in (("platelet-nadir", "Platelet nadir (10^9/L)"), ("anc-nadir", "ANC nadir (10^9/L)"),
                        ("recovery-days", "Count recovery day (days after infusion)"),
                        ("rescue-by-band", "Whole-body-dose band (Gy)")):
        response = client.get(f"/analytics/{key}.csv")
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        table = list(csv.reader(io.StringIO(response.content.decode())))
        assert header in table[0]
    assert AuditEvent.objects.filter(note__startswith="programme analytics CSV").count() == 4
    assert "/analytics/" in client.get("/followup/programme/").content.decode()


def test_an_unknown_analysis_is_not_found(login):
    assert login("morgan").get("/analytics/wbd-vs-shoe-size.csv").status_code == 404
