"""A ServiceNow that quotes the password it was sent the way other servers, proxies and HTML writers write it:
percent-escapes with lowercase hex (`%2f`, `%26`), decimal entities (`&#38;`), hex entities (`&#x26;`), or a mix of
those in one quote. `rosetta-monitoring ingest servicenow` reads an incident whose description quotes it, a 200
proxy page in HTML quoting it (not JSON: a reject), and a 400 refusal of the problems quoting it. Neither the
command's output nor the lake (landing/, raw/, the rejects, the run log) holds the password in any form; the words
around each quote are kept."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.integration.api.test_endpoints import QuietHandler
from tests.unit.ingest.test_credentials_in_text import kept

from .test_a_password_echoed_url_encoded_or_html_escaped_stays_secret import ingest_from, rows
from .test_servicenow_user_zone_changed_after_set_up import incident

USER = "svc-rosetta"
# Each password as a source writes it, escaped by hand: & / + " ' and a space (%20 or + in a URL).
ECHOES = {
    'Tr0ub4dor&3/x+y"wQ': {
        "lowercase percent-escapes": "Tr0ub4dor%263%2fx%2by%22wQ",
        "decimal entities": "Tr0ub4dor&#38;3&#47;x&#43;y&#34;wQ",
        "hex entities": "Tr0ub4dor&#x26;3&#x2f;x&#x2b;y&#X22;wQ",
        "mixed": "Tr0ub4dor&amp;3%2fx&#043;y&#x22;wQ",
    },
    "correct horse/battery 'staple'": {
        "lowercase percent-escapes": "correct+horse%2fbattery%20%27staple%27",
        "decimal entities": "correct&#32;horse&#47;battery&#32;&#39;staple&#39;",
        "hex entities": "correct&#x20;horse&#x2f;battery&#x20;&#x27;staple&#x27;",
        "mixed": "correct%20horse&#47;battery+&#x27;staple&#039;",
    },
}
CASES = [(password, way) for password, ways in ECHOES.items() for way in ways]


def servicenow_quoting(echo: str) -> type[QuietHandler]:
    class Quoting(QuietHandler):
        def do_GET(self) -> None:
            table = urlsplit(self.path).path.rsplit("/", 1)[-1]
            if table == "incident":
                record = incident(1, "2024-03-01 12:05:00")
                record["short_description"] = f"login as {USER} with {echo} failed"
                self.send_json({"result": [record]})
            elif table == "change_request":
                self.send_html(f"<html><body><p>password {echo} has expired</p></body></html>")
            elif table == "problem":
                error = {"message": "User Not Authenticated", "detail": f"password {echo} is wrong"}
                self.send_json({"error": error, "status": "failure"}, 400)
            else:
                self.send_json({"result": []})

        def send_html(self, page: str) -> None:
            payload = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Quoting


@pytest.mark.parametrize(("password", "way"), CASES)
def test_the_run_keeps_the_password_out_of_its_output_and_the_lake_however_it_is_escaped(
    password: str, way: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lake, code = ingest_from(servicenow_quoting(ECHOES[password][way]), password, tmp_path, monkeypatch)
    out, err = capsys.readouterr()
    assert code == 1
    refusal = (
        "servicenow: HTTP 400 on GET /api/now/v2/table/problem: User Not Authenticated (password <redacted> is wrong)"
    )
    assert f"error: stream failed (stream=problems, error={refusal})" in err.splitlines()
    descriptions = [r["short_description"] for r in rows(lake, "raw/servicenow/incidents")]
    assert descriptions == [f"login as {USER} with <redacted> failed"]
    (reject,) = rows(lake, "raw/servicenow/rejects")
    assert reject["raw_text"] == "<html><body><p>password <redacted> has expired</p></body></html>"
    everything = "\n".join([out, err, kept(tmp_path, "")])
    for form in [password, *ECHOES[password].values()]:
        assert form not in everything
