"""After logging in each person lands on a page they may read (issue 15: the site administrator landed on a
refusal, the patient list, which logged a 403 in the browser)."""

from __future__ import annotations

from clinic_helpers import PASSWORD


def test_the_site_administrator_lands_on_the_audit_trail_after_logging_in_not_on_a_refusal(client, people):
    response = client.post("/accounts/login/", {"username": "admin", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/audit/"
    assert response.status_code == 200


def test_nora_lands_on_the_patient_list_after_logging_in(client, people):
    response = client.post("/accounts/login/", {"username": "nora", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/patients/"
    assert response.status_code == 200


def test_the_administration_pages_carry_the_sites_name_not_djangos(client, people):
    client.force_login(people["admin"])
    page = client.get("/admin/").content.decode()
    assert "131I-MIBG" in page
    assert "Django administration" not in page
    assert 'rel="icon"' in page  # the site's icon: no request for /favicon.ico, no 404 in the console
