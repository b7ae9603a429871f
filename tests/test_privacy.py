"""Secrets, tokens and the text of reports never reach a log; the public thread never shows a report."""
from __future__ import annotations

import io
import logging

from app.logs import JsonFormatter
from tests.conftest import REPO
from tests.harness import SECRET
from tests.test_commands_e2e import Thread, incidents
from tests.test_desk import Incident


def test_logs_hold_no_secret_token_or_report_text(fake, bot):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old = root.level
    root.setLevel(logging.DEBUG)
    try:
        fake.fail_next("POST", r"/repos/psf/black/issues/\d+/comments$", status=502)
        t = Thread(fake, bot)
        t.comment("rey", "SECRET-INSULT-TEXT you fool", deliver=True)
        t.comment("wes", "/coc-remind")
        t.comment("tia", "/coc-report SECRET-REASON-TEXT he keeps insulting @ada")
        inc = Incident(fake, bot, incidents(fake)[0]["number"])
        inc.comment("wendy", "/coc-lock 1d\n/coc-resolve warning SECRET-NOTE-TEXT")
        late = fake.add_comment(REPO, t.number, user="ada", body="y")
        assert bot.deliver(fake.event_issue_comment("created", REPO, t.number, late), secret="wrong")[0] == 401
        bot.wait_idle()
    finally:
        root.removeHandler(handler)
        root.setLevel(old)
    text = stream.getvalue()
    assert '"delivery"' in text  # there are structured logs to check
    for secret in ["SECRET-INSULT-TEXT", "SECRET-REASON-TEXT", "SECRET-NOTE-TEXT", SECRET,
                   fake.private_key_pem.splitlines()[1], *fake._st.tokens.keys()]:
        assert secret not in text, f"{secret[:12]}… reached the logs"
