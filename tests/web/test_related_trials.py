"""Related trials (issue 13 §5): `mibg protocol import` stores other records (a file, a folder, a JSON lines file)
in the database's full-text index; `mibg trials similar NCT01370330 --json` and the study record page list the most
similar with their reasons. Runs on SQLite (FTS5) and PostgreSQL (tsvector) alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mibg.cli import main
from mibg.web.audit.models import AuditEvent
from mibg.web.trials.models import RelatedTrial

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "trials"


def _similar(capsys, nct="NCT01370330", *extra):
    capsys.readouterr()
    assert main(["trials", "similar", nct, "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_coordinator_imports_the_example_folder_and_the_neuroblastoma_mibg_trials_come_first(db, capsys):
    assert main(["protocol", "import", str(EXAMPLES)]) == 0
    assert "7 related trial record(s) stored: 7 new, 0 replaced" in capsys.readouterr().out
    assert RelatedTrial.objects.count() == 7
    assert AuditEvent.objects.filter(model="trials.RelatedTrial", note__contains="7 new").exists()
    result = _similar(capsys)
    assert result["nct_id"] == "NCT01370330"
    listed = result["similar"]
    assert {s["nct_id"] for s in listed} == {p.stem for p in EXAMPLES.glob("*.json")}
    for entry in listed:
        assert set(entry) >= {"nct_id", "title", "score", "reasons"}
        assert entry["reasons"]
    # The four neuroblastoma trials with 131I-MIBG: 30 (neuroblastoma) + 20 (the MIBG intervention) + eligibility
    # terms; the pheochromocytoma/paraganglioma trials share no condition with the record ("Neuroblastoma" only).
    top = [s for s in listed if "shared conditions: neuroblastoma" in s["reasons"]]
    assert [s["nct_id"] for s in listed[:4]] == [s["nct_id"] for s in top]
    assert {s["nct_id"] for s in top} == {"NCT01019850", "NCT01838187", "NCT03126916", "NCT01175356"}
    pheo = next(s for s in listed if s["nct_id"] == "NCT00339131")
    assert not any(r.startswith("shared conditions") for r in pheo["reasons"])
    assert any(r.startswith("shared interventions: metaiodobenzylguanidine mibg") for r in pheo["reasons"])
    assert [s["score"] for s in listed] == sorted((s["score"] for s in listed), reverse=True)


def test_a_json_lines_file_is_imported_and_a_record_imported_again_is_replaced(db, capsys, tmp_path):
    lines = tmp_path / "records.jsonl"
    documents = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))[:3]]
    lines.write_text("\n".join(json.dumps(d) for d in documents) + "\n", encoding="utf-8")
    assert main(["protocol", "import", str(lines)]) == 0
    assert main(["protocol", "import", str(lines)]) == 0
    assert "3 related trial record(s) stored: 0 new, 3 replaced" in capsys.readouterr().out
    assert RelatedTrial.objects.count() == 3
    assert len(_similar(capsys, "NCT01370330", "--limit", "2")["similar"]) == 2


def test_one_bad_record_in_a_folder_refuses_the_whole_import_naming_the_file_and_field(db, capsys, tmp_path):
    good = json.loads((EXAMPLES / "NCT01019850.json").read_text(encoding="utf-8"))
    bad = json.loads((EXAMPLES / "NCT03126916.json").read_text(encoding="utf-8"))
    del bad["protocolSection"]["eligibilityModule"]
    (tmp_path / "a.json").write_text(json.dumps(good), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(bad), encoding="utf-8")
    capsys.readouterr()
    assert main(["protocol", "import", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "b.json" in error
    assert "protocolSection.eligibilityModule: is required" in error
    assert not RelatedTrial.objects.exists()


def test_a_line_that_is_not_json_is_refused_with_its_line_number(db, capsys, tmp_path):
    lines = tmp_path / "records.jsonl"
    lines.write_text((EXAMPLES / "NCT01019850.json").read_text(encoding="utf-8").replace("\n", " ") + "\n{oops\n",
                     encoding="utf-8")
    assert main(["protocol", "import", str(lines)]) == 2
    assert "records.jsonl:2: not JSON" in capsys.readouterr().err
    assert not RelatedTrial.objects.exists()


def test_similar_to_an_unknown_record_is_refused_naming_the_nct_number(db, capsys):
    assert main(["trials", "similar", "NCT99999999", "--json"]) == 2
    assert "nct_id: NCT99999999 is neither" in capsys.readouterr().err


def test_similar_to_an_imported_record_lists_the_others_but_never_itself(db, capsys):
    main(["protocol", "import", str(EXAMPLES)])
    listed = _similar(capsys, "NCT03126916")["similar"]
    assert "NCT03126916" not in {s["nct_id"] for s in listed}
    # ANBL09P1 shares neuroblastoma (30), 131I-MIBG and more interventions (capped 40), newly diagnosed high-risk terms.
    assert listed[0]["nct_id"] == "NCT01175356"


@pytest.mark.parametrize("name", ["morgan", "nora"])
def test_the_study_record_page_lists_the_related_trials_with_their_reasons(login, name, capsys):
    main(["protocol", "import", str(EXAMPLES)])
    page = login(name).get("/documents/study-record/").content.decode()
    assert 'id="related-trials"' in page
    assert "NCT01019850" in page
    assert "shared conditions: neuroblastoma" in page
    assert page.index("NCT01019850") < page.index("NCT00339131")  # more similar first
