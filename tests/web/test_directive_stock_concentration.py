"""decisions.md A38 in the web: the directive form takes the stock's activity concentration at its calibration time
(as the command's --stock-concentration-mci-per-ml does), through the one planning service, so that the order sheet,
the directive PDF and the API give the volume to draw and the diluent to the final volume; the plausible range is
the protocol definition's.

Hand calculation (clinical-reference §2.3, decisions.md A38): 22.0 kg x 18 mCi/kg = 396 mCi. Calibration time =
administration time, so no decay: 396 mCi at calibration / 20 mCi/mL = 19.8 mL of stock to draw; 50 mL final
volume - 19.8 mL = 30.2 mL 0.9 % NaCl."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader

from clinic_helpers import PASSWORD
from mibg.web.directives.models import WrittenDirective


def _token(client, url):
    return client.get(url).context["form"]["form_token"].value()


def _data(course, token, **changes):
    t = course.planned_treatment_date
    data = {"form_token": token, "version": course.version, "mci_per_kg": "18", "preparation": "draximage",
            "specific_activity": "12", "stock_concentration_mci_per_ml": "20", "final_volume_ml": "50",
            "infusion_min": "100", "route": "central_line", "calibration_time": f"{t}T09:00",
            "administration_time": f"{t}T09:00", "confirm": "on", "password": PASSWORD}
    data.update(changes)
    return data


def test_dr_patel_enters_the_stock_concentration_and_the_order_sheet_gives_the_volume_to_draw_and_the_dilution(
        login, make_course):
    course = make_course(until="eligible")
    client = login("patel")
    url = f"/courses/{course.pk}/directive/"
    response = client.post(url, _data(course, _token(client, url)))
    assert response.status_code == 302, response.content.decode()[:3000]
    directive = WrittenDirective.objects.get(course=course)
    assert directive.stock_concentration_mci_per_ml == Decimal("20")
    assert directive.dose_plan.drug_volume_ml == Decimal("19.8")
    sheet = client.get(f"/directives/{directive.pk}/print/").content.decode()
    assert re.search(r'id="stock-concentration">20 mCi/mL at calibration', sheet)
    assert re.search(r'id="drug-volume"><strong class="num">19.8 mL</strong>', sheet)
    assert re.search(r'id="diluent"><span class="num">30.2 mL</span> 0.9 % NaCl', sheet)
    assert 'id="lot">— (recorded at the assay)' in sheet
    pdf = client.get(f"/documents/courses/{course.pk}/directive.pdf").content
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Stock concentration at calibration 20 mCi/mL" in text
    assert "Volume to draw at calibration time 19.8 mL" in text
    assert "Diluent (0.9 % NaCl) to the final volume 30.2 mL" in text


def test_the_directive_form_offers_the_signed_stock_concentration_for_the_next_version(login, make_course):
    course = make_course(until="eligible")
    client = login("patel")
    url = f"/courses/{course.pk}/directive/"
    client.post(url, _data(course, _token(client, url)))
    assert client.get(url).context["form"]["stock_concentration_mci_per_ml"].value() == Decimal("20")


@pytest.mark.parametrize(("concentration", "refused_by"), [
    ("0.99", "plausible_stock_concentration_mci_per_ml_min"),  # just below the protocol definition's 1 mCi/mL
    ("1", None),
    ("100", None),
    ("100.01", "plausible_stock_concentration_mci_per_ml_max"),  # just above its 100 mCi/mL
])
def test_the_stock_concentration_is_refused_outside_the_protocol_definitions_plausible_range(
        login, make_course, concentration, refused_by):
    course = make_course(until="eligible")
    client = login("patel")
    url = f"/courses/{course.pk}/directive/"
    preview = client.post(f"/courses/{course.pk}/directive/preview/",
                          _data(course, _token(client, url), stock_concentration_mci_per_ml=concentration))
    text = preview.content.decode()
    if refused_by is None:
        assert 'id="plan-status"' in text
    else:
        assert 'id="plan-error"' in text
        assert "stock_concentration_mci_per_ml" in text
        assert refused_by in text

