"""Behaviour of the heat estimate (app.heat) and its command line (app.heat.cli).

All texts here are written for these tests."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app import heat
from app.heat import HeatEvent, HeatResult, clean, is_heated, lexicon, model, new_state, observe, score_thread, signals

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def ts(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def one(body: str) -> HeatResult:
    return score_thread([{"body": body}])


def thread(bodies, authors=None, minutes=None, assoc=None):
    out = []
    for i, b in enumerate(bodies):
        out.append({
            "body": b,
            "author": authors[i] if authors else None,
            "author_association": assoc[i] if assoc else None,
            "created_at": ts(minutes[i]) if minutes else None,
        })
    return out


HOSTILE = [
    "You are a complete idiot. Shut up and stop wasting everyone's time.",
    "What is wrong with you? Your code is garbage and you clearly can't read.",
    "@someone you're a clueless moron, go away.",
    "Are you fucking blind? Read the damn docs before posting this shit.",
]
TECHNICAL = [
    "If the build hangs, kill the process and run it again.",
    "The job will abort when the config is missing; that is expected.",
    "Please dump core on SIGSEGV so we can inspect it.",
    "Rebase your branch on master branch before merging.",
    "When the parent exits, the child process dies with it.",
    "Garbage collection pauses are long with the default heap size.",
    "This hack is a dirty workaround, but it unblocks the release.",
    "Set the master/slave replication mode and execute the script; the fatal error is gone.",
    "The zombie processes were orphaned after the crash, so we nuke the temp dir.",
    "It is a dumb terminal, so lazy loading of the module is disabled.",
]


# ---------------------------------------------------------------- model file

def test_model_file_is_small_and_threshold_sane():
    size = heat.MODEL_PATH.stat().st_size
    assert size < 200_000
    assert 0.3 <= heat.DEFAULT_THRESHOLD <= 0.95
    assert is_heated(heat.DEFAULT_THRESHOLD)
    assert not is_heated(heat.DEFAULT_THRESHOLD - 0.01)
    assert is_heated(0.5, threshold=0.4) and not is_heated(0.5, threshold=0.6)


# ---------------------------------------------------------------- language

@pytest.mark.parametrize("body", HOSTILE)
def test_insults_aimed_at_people_score_high_with_reasons(body):
    res = one(body)
    assert res.score >= heat.DEFAULT_THRESHOLD, (body, res)
    signals = {r["signal"] for r in res.reasons}
    assert signals & {"insult_at_person", "profanity_at_person", "hostile_phrase", "hottest_comment"}
    for r in res.reasons:
        assert set(r) == {"signal", "weight", "detail"}
        assert r["weight"] > 0
    # reasons never quote the comment
    details = " ".join(r["detail"] for r in res.reasons).lower()
    for word in ("idiot", "moron", "garbage", "fucking", "someone", "blind"):
        assert word not in details


def test_insult_aimed_at_a_person_scores_higher_than_the_same_word_about_oneself():
    assert one("You are an idiot.").score > one("I am an idiot, I forgot the flag.").score
    assert one("Sorry, stupid mistake on my side, fixed now.").score < heat.DEFAULT_THRESHOLD


@pytest.mark.parametrize("body", TECHNICAL)
def test_technical_vocabulary_scores_low(body):
    res = one(body)
    assert res.score < 0.3, (body, res)
    assert not is_heated(res.score)


def test_politeness_and_apologies_lower_the_score():
    rude = one("This is ridiculous, the release is broken again and nobody cares.")
    polite = one("Sorry, but this is ridiculous, the release is broken again. Thanks for looking, please help.")
    assert polite.score <= rude.score


def test_shouting_raises_the_score():
    calm = one("this is completely broken and nobody answers my question")
    loud = one("THIS IS COMPLETELY BROKEN AND NOBODY ANSWERS MY QUESTION!!!")
    assert loud.score > calm.score
    assert any(r["signal"] in ("shouting", "exclamations") for r in loud.reasons)


@pytest.mark.parametrize("wrap", [
    lambda s: "Here is the log:\n\n```\n" + s + "\n```\n\nAny idea?",
    lambda s: "Here is the log: `" + s + "` any idea?",
    lambda s: "> " + s + "\n\nAny idea?",
    lambda s: "Here is the log:\n\n    " + s + "\n\nAny idea?",
    lambda s: "Any idea?\n\nOn Mon, Mar 4, 2024 at 10:00 AM Someone <x@example.org> wrote:\n" + s,
    lambda s: "Any idea?\n<pre>" + s + "</pre>",
])
def test_code_quotes_and_email_tails_are_ignored(wrap):
    hostile = "You are a complete idiot, shut up, your code is garbage!!!"
    assert one(hostile).score >= heat.DEFAULT_THRESHOLD
    res = one(wrap(hostile))
    assert res.score < 0.3, res


@pytest.mark.parametrize("body", [
    "这个问题在新版本中已经修复了，请更新后再试。谢谢！",
    "이 문제는 최신 버전에서 해결되었습니다. 업데이트 후 다시 시도해 주세요.",
    "Эта ошибка исправлена в последней версии, пожалуйста, обновитесь.",
    "Der Fehler ist in der neuesten Version behoben. Bitte aktualisieren!",
    "🎉🎉🎉 🚀👍 ❤️",
    "ÄÖÜ ÆØÅ ĞŞİ",
    "",
    "   \n\t  ",
    "\x00\ud7ff\ufeff",
])
def test_non_english_text_never_crashes_and_is_not_heated_for_it(body):
    res = one(body)
    assert 0.0 <= res.score < 0.3
    many = score_thread([{"body": body, "author": f"u{i}"} for i in range(20)])
    assert not is_heated(many.score)


def test_none_and_odd_inputs():
    assert score_thread([]).score == 0.0
    res = score_thread([{"body": None, "author": None, "author_association": None, "created_at": None}])
    assert res.score < 0.3
    res = score_thread([{"body": "hi", "created_at": "not a date"}, {"body": "ok", "created_at": 12}])
    assert 0 <= res.score <= 1
    res = score_thread([HeatEvent(body="thanks", created_at=T0), HeatEvent(body="ok", created_at=T0)])
    assert res.score < 0.3


# ---------------------------------------------------------------- dynamics

def test_busy_but_calm_thread_is_not_heated():
    bodies = [
        "Thanks for the report, I can reproduce it.",
        "Same here on version 2.1, happy to test a fix.",
        "Could you please share the config file?",
        "Here it is, thanks for looking into it!",
        "Confirmed on macOS too. Great project by the way.",
    ] * 10
    authors = [f"user{i % 25}" for i in range(50)]
    assoc = ["NONE" if i % 2 else "FIRST_TIME_CONTRIBUTOR" for i in range(50)]
    minutes = [i * 0.5 for i in range(50)]          # 50 comments in 25 minutes
    res = score_thread(thread(bodies, authors, minutes, assoc))
    assert res.score < 0.3, res
    assert not is_heated(res.score)


def test_back_and_forth_between_two_accounts_raises_the_score():
    bodies = [
        "This change is wrong and you know it.",
        "No, you just don't understand the code, seriously.",
        "I understand it better than you, stop pretending.",
        "You are being ridiculous, as usual.",
        "Whatever you say. This is a waste of time.",
        "Then stop wasting mine, honestly.",
    ]
    minutes = [0, 5, 9, 14, 20, 22]
    traded = score_thread(thread(bodies, ["ann", "bob"] * 3, minutes))
    spread = score_thread(thread(bodies, ["ann", "bob", "cy", "dee", "eve", "fay"], minutes))
    assert traded.score > spread.score
    assert any(r["signal"] == "back_and_forth" for r in traded.reasons)


def test_hostile_burst_scores_higher_than_the_same_comments_spread_over_weeks():
    bodies = ["This is ridiculous, seriously.", "Are you kidding? Nobody cares.", "What a joke, useless."] * 3
    fast = score_thread(thread(bodies, minutes=[i * 3 for i in range(9)]))
    slow = score_thread(thread(bodies, minutes=[i * 60 * 24 * 5 for i in range(9)]))
    assert fast.score > slow.score


def test_hostility_across_several_comments_adds_up():
    one_hot = score_thread(thread(["This is ridiculous.", "ok", "ok", "ok"]))
    three_hot = score_thread(thread(["This is ridiculous.", "What a joke.", "Seriously, useless.", "ok"]))
    assert three_hot.score > one_hot.score


SHARP = ["Seriously, this is ridiculous.", "What a joke, honestly useless.", "Unbelievable. This is absurd.",
         "This is ridiculous and you keep ignoring it.", "Seriously? What a waste of time."]
MILD = ["Thanks, looks good.", "Could you add a test?", "Done, pushed a fix.", "Rebased on main.", "LGTM."]


def test_sustained_sharpness_raises_the_score_and_recent_comments_weigh_more():
    calm = score_thread(thread(MILD * 2, minutes=[i * 90 for i in range(10)]))
    sharp_late = score_thread(thread(MILD + SHARP, minutes=[i * 90 for i in range(10)]))
    sharp_early = score_thread(thread(SHARP + MILD, minutes=[i * 90 for i in range(10)]))
    assert calm.score < 0.3
    assert sharp_late.score > sharp_early.score > calm.score
    assert is_heated(sharp_late.score)
    assert any(r["signal"] == "recent_heat" for r in sharp_late.reasons)


def test_everyday_words_and_long_comments_do_not_add_up_to_heat():
    """Words such as "still" or "again" and long calm comments are common in calm threads: many of them in a
    row must not make a thread heated."""
    still = ["Still happening for me on 3.2.", "Same here, still broken after upgrading.",
             "Can confirm, still an issue on Windows.", "Ran it again with the new build, same error.",
             "Obviously a regression; it worked again after a downgrade.", "Still seeing this too, honestly."] * 3
    para = ("The scheduler keeps a priority queue of pending jobs; each worker pops the next job, runs it in a "
            "subprocess and reports the exit status back over a pipe. When the pipe closes early we retry once "
            "and then mark the job as failed, so the queue does not stall and we don't lose the result. ") * 15
    for bodies in (still, [para] * 30):
        res = score_thread(thread(bodies, [f"u{i % 7}" for i in range(len(bodies))],
                                  [i * 20 for i in range(len(bodies))], ["NONE"] * len(bodies)))
        assert res.score < 0.3, res


def test_a_state_stored_by_an_older_version_still_works():
    st, _ = observe(None, HeatEvent(body="Thanks!", author="a", comment_id=1, created_at=ts(0)))
    for key in ("ez", "ew"):
        st.pop(key, None)
    st, res = observe(st, HeatEvent(body="You are a clueless moron.", author="b", comment_id=2, created_at=ts(1)))
    assert res.score >= heat.DEFAULT_THRESHOLD
    assert st["n"] == 2


# ---------------------------------------------------------------- state

def test_observe_is_incremental_and_json_serialisable():
    st = new_state()
    json.dumps(st)
    before = json.dumps(st, sort_keys=True)
    st2, res = observe(st, HeatEvent(body="You are an idiot.", author="a", comment_id=1, created_at=ts(0)))
    assert json.dumps(st, sort_keys=True) == before          # input state untouched
    st3 = json.loads(json.dumps(st2))                         # a round trip through the store
    st4, res2 = observe(st3, HeatEvent(body="Shut up, moron.", author="b", comment_id=2, created_at=ts(1)))
    assert res2.score >= res.score >= heat.DEFAULT_THRESHOLD
    assert res2.hot_comments and set(res2.hot_comments) <= {1, 2}
    assert observe(None, HeatEvent(body="hello"))[1].score < 0.3
    assert observe({"v": -1}, HeatEvent(body="hello"))[1].score < 0.3      # unknown versions start afresh


def test_score_thread_equals_folding_observe():
    bodies = ["Thanks!", "This is ridiculous, are you kidding?", "Calm down please.", "Whatever."]
    comments = thread(bodies, ["a", "b", "a", "b"], [0, 1, 2, 3])
    st = None
    for i, c in enumerate(comments):
        st, res = observe(st, HeatEvent(body=c["body"], author=c["author"], created_at=c["created_at"], comment_id=i))
    assert res.score == score_thread(comments).score


def test_edits_deletions_and_reactions():
    st, calm = observe(None, HeatEvent(body="Looks fine to me.", author="a", comment_id="c1"))
    st, edited = observe(st, HeatEvent(kind="edited", body="You are an idiot, shut up.", author="a", comment_id="c1"))
    assert edited.score > calm.score
    assert st["n"] == 1 and st["edits"] == 1
    st, deleted = observe(st, HeatEvent(kind="deleted", body=None, author="a", comment_id="c1"))
    assert st["deletes"] == 1 and deleted.score >= calm.score
    st, r1 = observe(None, HeatEvent(body="This is ridiculous.", comment_id=5))
    st, r2 = observe(st, HeatEvent(kind="edited", body="This is ridiculous.", comment_id=5,
                                   reactions={"+1": 0, "-1": 7, "confused": 3, "total_count": 10}))
    assert r2.score > r1.score and st["neg"] == 10


def test_state_stays_bounded_after_10000_comments():
    st = None
    for i in range(10_000):
        body = "You are ridiculous!" if i % 10 == 0 else f"comment number {i}, thanks"
        st, res = observe(st, HeatEvent(body=body, author=f"user{i}", author_association="NONE",
                                        created_at=ts(i), comment_id=f"IC_{i:08d}"))
    size = len(json.dumps(st))
    assert size < 12_000, size
    assert len(st["authors"]) <= heat.MAX_AUTHORS
    assert len(st["seen"]) <= heat.MAX_SEEN
    assert len(st["times"]) <= heat.MAX_TIMES
    assert len(res.hot_comments) <= 5
    assert 0.0 <= res.score <= 1.0


# ---------------------------------------------------------------- command line

def run_cli(*args, stdin=""):
    return subprocess.run([sys.executable, "-m", "app.heat.cli", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, timeout=60)


def test_cli_contract(tmp_path):
    lines = [
        {"id": "calm", "comments": [{"author": "a", "author_association": "MEMBER", "created_at": ts(0),
                                     "body": "Thanks, merged!"}]},
        {"id": 7, "comments": [{"author": None, "author_association": None, "created_at": None,
                                "body": "You are a complete idiot, shut up."}], "label": True, "extra": [1]},
        {"id": None, "comments": []},
        {"id": "nulls", "comments": [{"body": None}, {"body": "ok", "created_at": None}]},
    ]
    stdin = "\n".join(json.dumps(x) for x in lines) + "\n\n"
    p = run_cli(stdin=stdin)
    assert p.returncode == 0, p.stderr
    out = [json.loads(x) for x in p.stdout.splitlines()]
    assert [o["id"] for o in out] == ["calm", 7, None, "nulls"]
    for o in out:
        assert set(o) == {"id", "score", "heated", "reasons"}
        assert 0.0 <= o["score"] <= 1.0
        assert o["heated"] == (o["score"] >= heat.DEFAULT_THRESHOLD)
    assert out[1]["heated"] and not out[0]["heated"]
    assert out[1]["reasons"] and all({"signal", "weight", "detail"} <= set(r) for r in out[1]["reasons"])

    f = tmp_path / "threads.jsonl"
    f.write_text(stdin, encoding="utf-8")
    p = run_cli(str(f), "--threshold", "0")
    assert p.returncode == 0, p.stderr
    assert all(json.loads(x)["heated"] for x in p.stdout.splitlines())
    p = run_cli("-", "--threshold=1", stdin=stdin)
    assert p.returncode == 0
    assert [json.loads(x)["score"] for x in p.stdout.splitlines()] == [o["score"] for o in out]


def test_cli_help_and_bad_arguments(tmp_path):
    p = run_cli("--help")
    assert p.returncode == 0 and "--threshold" in p.stdout and "FILE" in p.stdout
    for args in (["--threshold", "abc"], ["--threshold", "1.5"], ["--bogus"], ["a", "b"],
                 [str(tmp_path / "missing.jsonl")]):
        p = run_cli(*args)
        assert p.returncode == 2, args
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert p.stdout == ""


def test_cli_imports_no_web_server():
    """The command line's throughput depends on starting fast: neither way of running it imports the server."""
    for module in (["app", "heat"], ["app.heat.cli"]):
        p = subprocess.run([sys.executable, "-X", "importtime", "-m", *module, "--help"], capture_output=True,
                           text=True, cwd=ROOT, timeout=60)
        assert p.returncode == 0, p.stderr
        imported = {line.rsplit("|", 1)[-1].strip() for line in p.stderr.splitlines() if line.startswith("import time")}
        assert "app.heat.batch" in imported      # the estimate itself, and nothing of the server:
        assert not {m.split(".")[0] for m in imported} & {"aiohttp", "gidgethub", "yaml", "markdown_it"}, module
        assert not {"app.server", "app.store", "handlers"} & imported, module


def test_cli_malformed_line_is_reported_and_the_rest_processed():
    stdin = "\n".join([
        json.dumps({"id": 1, "comments": [{"body": "fine"}]}),
        "{not json",
        json.dumps({"id": 3, "comments": "nope"}),
        json.dumps({"id": 4, "comments": [{"body": "also fine"}]}),
        '{"id": 5, "comments": ' + "[" * 5000 + "]" * 5000 + "}",  # deeper than any parser recurses
        json.dumps({"id": 6, "comments": [{"body": "fine too"}]}),
    ]) + "\n"
    p = run_cli(stdin=stdin)
    assert p.returncode == 2
    assert [json.loads(x)["id"] for x in p.stdout.splitlines()] == [1, 4, 6]
    assert "line 2" in p.stderr and "line 3" in p.stderr and "line 5" in p.stderr
    assert "Traceback" not in p.stderr


# ---------------------------------------------------------------- one definition: fast forms, training, scoring

def _random_texts(seed: int, pieces: list[str], count: int, longest: int = 30) -> list[str]:
    import random
    rng = random.Random(seed)
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(0, longest))) for _ in range(count)]


def test_fast_cleaning_patterns_match_their_definitions():
    import re
    ref = {k: re.compile(v) for k, v in clean.REFERENCE_PATTERNS.items()}
    families = {
        "fence": ["```", "````", "~~~", "~~~~", "\n", " ", "  ", "   ", "    ", "\t", "a", "`", "~", "\n\n", "x```"],
        "quote": [">", "\n", " ", "  ", "   ", "    ", "a", "\t", "\r", "\u2028", "\n>"],
        "html": ["<", ">", "!--", "--", "-->", "pre", "code", "/", "</pre>", "<code>", "a", "\n", " ", "precode",
                 "</code>", "<pre", "_", "1", "é"],
        "inline": ["`", "``", "a", " ", "\n", "```"],
        "wrote": ["On", "on", "wrote", "x", "_", " ", "\n", "é", "1", "Onwrote", "a" * 60],
        "punct": ["!", "?", "!!", "?!", "a", " ", "."],
    }
    for seed, (family, pieces) in enumerate(families.items()):
        for t in _random_texts(seed, pieces, 3000) + HOSTILE + TECHNICAL:
            assert clean._fence_sub(t) == ref["fence"].sub("\n", t), repr(t)
            assert clean._quote_sub(t) == ref["quote"].sub("", t), repr(t)
            assert clean._HTML_FAST_RE.sub(" ", t) == ref["html"].sub(" ", t), repr(t)
            assert clean._html_sub(t) == ref["html"].sub(" ", t), repr(t)
            assert clean._INLINE_CODE_FAST_RE.sub(" ", t) == ref["inline_code"].sub(" ", t), repr(t)
            m = ref["wrote"].search(t)
            assert clean._wrote_search(t) == (m.start() if m else -1), repr(t)
            if family == "punct":   # the substring tests of comment_signals
                runs = len(re.findall(r"[!?]{3,}|!!", t)) if re.search(signals.PUNCT_PAIR, t) else 0
                assert signals._exclamations(t) == runs, repr(t)


def test_shouting_pre_check_never_hides_a_run():
    pieces = ["ABC", "DEF", "GHIJ", "I", "A", "X", "Z'", " ", "  ", "\n", "\t", "\u3000", "\xa0", "\x1c", "!", "?",
              ".", ",", "a", "é", "1", "\ud800", "'", "''"]
    seen = 0
    for t in _random_texts(7, pieces, 20000, 40):
        assert signals._caps_runs(t) == signals._CAPS_RUN_RE.findall(t), repr(t)
        runs = [r for r in signals._CAPS_RUN_RE.findall(t) if len(r) - r.count(" ") >= 14]
        if runs:
            seen += 1
            assert t.encode("utf-8", "ignore").translate(signals._RUN_TABLE, b" ").find(signals._RUN_MIN) >= 0, repr(t)
    assert seen > 100


def test_flat_foreign_pattern_matches_the_grouped_one():
    import re
    pats = json.loads(heat.MODEL_PATH.read_text(encoding="utf-8"))["lexicon"]["other_language_profanity"]
    grouped = re.compile("|".join(f"(?:{p})" for p in pats))
    flat = model.current().lexicon.foreign_re
    words = [w for p in pats for w in p.split("|")]
    for t in _random_texts(3, words + [" ", "x", "é", "де", "你"], 3000, 12):
        assert flat.findall(t) == grouped.findall(t), t
    assert lexicon._foreign_re(["a(", ")b"]).pattern == "(?:a()|(?:)b)"      # not whole regexes: grouped


def _synthetic_threads(count: int = 80) -> list[dict]:
    """Threads in the command line's format (as the training data is) that reach every feature: hostile,
    technical and calm comments, code and quotes, shouting, mentions, authors trading replies, newcomers,
    bursts and slow paces, reactions, and absent or odd values."""
    import random
    rng = random.Random(11)
    bodies = HOSTILE + TECHNICAL + SHARP + MILD + [
        "", None, "LGTM", "WHY IS THIS STILL BROKEN?!?! FIX IT NOW PLEASE", "@ann you are an idiot, @bob too",
        "I'm an idiot, sorry: the garbage collection flag was off.", "Here:\n\n```\nshut up, moron\n```\n\nthanks",
        "> you are a moron\n\nPlease keep it civil, this is a code of conduct matter.", "Seriously??? Again!!",
        "Thanks! " * 40, "Ceci est ridicule, merde.", "这个问题很傻逼", "You people never listen. Locking this thread.",
    ]
    threads = []
    for k in range(count):
        comments = []
        for i in range(rng.randint(1, 25)):
            c = {"body": rng.choice(bodies), "author": rng.choice(["ann", "bob", "cy", None]),
                 "author_association": rng.choice(["NONE", "MEMBER", "FIRST_TIME_CONTRIBUTOR", None]),
                 "created_at": rng.choice([ts(i * rng.choice([1, 7, 90])), None, "junk", 1.7e9 + i * 60])}
            if rng.random() < 0.2:
                c["reactions"] = {"-1": rng.randint(0, 3), "confused": rng.randint(0, 2)}
            comments.append(c)
        threads.append({"id": f"synthetic/{k}", "label": False, "comments": comments})
    return threads


def _shared_threads() -> list[dict]:
    """Every thread of the development data in ../shared/heat, when it is there (a clone has none)."""
    data = ROOT.parent / "shared" / "heat"
    return [json.loads(line) for path in sorted(data.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_training_and_scoring_compute_the_same_features():
    """tools/build_heat_model.py fits the weights on the features it computes; the server (observe, one event
    at a time, its state stored as JSON in between) and the command line (score_thread) score with theirs.
    Same comments, same features, same scores, to the last bit."""
    from app.heat.features import sigmoid
    from tools import build_heat_model as build

    threads = _synthetic_threads() + _shared_threads()
    mdl = model.current()
    trained = build.thread_vectors(threads)
    assert len(trained) == len(threads)
    for t, features in zip(threads, trained):
        st = None
        for i, c in enumerate(t["comments"]):
            event = HeatEvent(body=c["body"], author=c["author"], author_association=c["author_association"],
                              created_at=c["created_at"], comment_id=i, reactions=c.get("reactions"))
            st, res = observe(json.loads(json.dumps(st)), event)
        assert heat.thread_features(st, mdl) == features, t["id"]
        cli = score_thread(t["comments"])
        assert (cli.score, cli.reasons, cli.hot_comments) == (res.score, res.reasons, res.hot_comments), t["id"]
        assert cli.score == round(sigmoid(mdl.thread_logit(features)), 4), t["id"]
        # HeatEvents and dicts mixed in one thread
        mixed = [HeatEvent(body=c["body"], author=c["author"], author_association=c["author_association"],
                           created_at=c["created_at"], reactions=c.get("reactions")) if j % 3 == 0 else c
                 for j, c in enumerate(t["comments"])]
        assert score_thread(mixed) == cli, t["id"]
    # the comment-level training examples: the signals the estimate computes for the same text
    single = [{"comments": [c]} for t in threads[:20] for c in t["comments"]]
    assert build.comment_vectors(single) == [heat.comment_signals(t["comments"][0]["body"]) for t in single]


def test_cli_fast_json_reading_matches_json():
    from app.heat import cli as heat_cli
    lines = [
        {"id": 1, "comments": [{"body": "You are a complete idiot, shut up."}]},
        {"id": 18446744073709551616, "comments": [{"body": "ok"}]},
        {"id": [1, {"x": -9223372036854775809}], "comments": []},
        {"id": "ca", "comments": [{"body": "x", "created_at": 18446744073709551616}]},
        {"id": "r", "comments": [{"body": "x", "reactions": {"-1": 18446744073709551616, "confused": 1}}]},
        {"id": 0.1, "comments": [{"body": "x", "created_at": 1.5e9}], "extra": 10 ** 30},
        {"id": "c", "comments": [{"body": 5}]},
    ]
    raws = [json.dumps(x).encode() for x in lines] + [
        b'{"id": NaN, "comments": []}', b'{"id": "s", "comments": [{"body": "\\ud800"}]}',
        '{"id": "é", "comments": [{"body": "ÄÖÜ"}]}'.encode(), b'{"id": "bad\xff", "comments": []}',
        b'{"id": 1, "comments": []} x', b'[1]', b'\xef\xbb\xbf{"id": 1, "comments": []}',
    ]
    for raw in raws:
        assert heat_cli._score_raw(raw, 0.5) == heat_cli._score_line(raw.decode("utf-8", "replace"), 0.5), raw
