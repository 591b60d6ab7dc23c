"""Image Scoring (ADK LoopAgent): the simulated image model on Vertex ``:predict``, the pixel
reader, the briefs and the judge by hand, the simulated policies as units, and whole runs
through the study runner on the simulated service (tools on and off, loop counts over seeds)."""

from __future__ import annotations

import base64
import collections
import io
import random
import warnings

import pytest

import maestro
from maestro.contract import Task
from maestro.instances.image_scoring import (
    AGENT_NAMES,
    OPTIONS,
    Requirement,
    check_requirements,
    image_from_answer,
    inspect_png,
    judge,
    load_tasks,
    parse_requirements,
    read_score,
)
from maestro.instances.image_scoring.prompts import (
    CHECKER,
    GENERATE_TOOL,
    IMAGE_GENERATOR,
    IMAGE_SCORER,
    PROMPT_WRITER,
    SCORE_TOOL,
    instructions,
    last_prompt,
)
from maestro.instances.image_scoring.sim_policies import (
    POLICIES,
    ImageGeneratorPolicy,
    ImageScorerPolicy,
    PromptWriterPolicy,
)
from maestro.instances.image_scoring.tasks import IMAGE_URI_PREFIX
from maestro.sim.policy import FailureMix, PolicyContext, SimMessage, SimRequest, SimTool, SimToolCall
from maestro.sim.wire_gemini import render_predict, render_scene_png, scene_elements

REQS = parse_requirements("two red circles; a blue square; a yellow background")
TASK = Task("t", "Brief: x\nRequirements:\n- two red circles\n- a blue square\n- a yellow background", meta={
    "requirements": [r.text() for r in REQS]})


def _draw(background, shapes):
    """A PNG drawn here with Pillow, independently of the simulated image model."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (120, 120), background)
    d = ImageDraw.Draw(img)
    for shape, colour, (x, y) in shapes:
        box = (x, y, x + 30, y + 30)
        if shape == "circle":
            d.ellipse(box, fill=colour)
        elif shape == "square":
            d.rectangle(box, fill=colour)
        else:
            d.polygon([(x + 15, y), (x, y + 30), (x + 30, y + 30)], fill=colour)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


# --- the brief's wording ------------------------------------------------------------------------


def test_requirements_read_counts_colours_shapes_and_background():
    assert REQS == [Requirement(2, "red", "circle"), Requirement(1, "blue", "square"),
                    Requirement(0, "yellow", "background")]
    assert [r.text() for r in REQS] == ["two red circles", "a blue square", "a yellow background"]
    assert parse_requirements("3 gray triangles and a GREEN circle") == [Requirement(3, "grey", "triangle"),
                                                                         Requirement(1, "green", "circle")]
    assert read_score("Score: 1/3 ... later Score: 2 / 3") == (2, 3) and read_score("looks fine") is None
    assert last_prompt("Prompt: a\nx\nPrompt: b c") == "b c"


def test_bundled_briefs_are_checkable():
    tasks = load_tasks()
    assert len(tasks) == 6 and len({t.task_id for t in tasks}) == 6
    for t in tasks:
        assert parse_requirements("; ".join(t.meta["requirements"])) == parse_requirements(t.question)
        assert any(r.is_background for r in parse_requirements(t.question))
    assert [t.task_id for t in load_tasks(n=2, seed=1)] == [t.task_id for t in load_tasks(n=2, seed=1)]


# --- pixels -----------------------------------------------------------------------------------


def test_pixel_reader_finds_shapes_drawn_independently():
    png = _draw((250, 215, 0), [("circle", (230, 30, 30), (5, 5)), ("circle", (225, 40, 35), (50, 5)),
                                ("square", (30, 80, 230), (5, 60)), ("triangle", (30, 160, 60), (60, 60))])
    scene = inspect_png(png)
    assert scene.background == "yellow" and (scene.width, scene.height) == (120, 120)
    assert sorted(scene.elements) == [("blue", "square"), ("green", "triangle"), ("red", "circle"), ("red", "circle")]
    rows = check_requirements(scene, REQS + [Requirement(1, "green", "square")])
    assert [r["ok"] for r in rows] == [True, True, True, False] and rows[3]["found"] == 0
    with pytest.raises(ValueError, match="not a PNG"):
        inspect_png(b"GIF89a")


# --- the simulated image model ----------------------------------------------------------------


def test_image_model_draws_what_the_prompt_names():
    png = render_scene_png("Two red circles and a blue square on a yellow background", random.Random(0))
    scene = inspect_png(png)
    assert scene.background == "yellow" and sorted(scene.elements) == [("blue", "square"), ("red", "circle"),
                                                                        ("red", "circle")]
    assert render_scene_png("two red circles", random.Random(3)) == render_scene_png("two red circles", random.Random(3))
    # a vague prompt leaves counts and colours to chance: fewer of the requested elements
    vague = [inspect_png(render_scene_png("some circles and a square", random.Random(s))) for s in range(8)]
    assert all(sum(1 for e in v.elements if e[1] == "circle") in (2, 3) for v in vague)
    assert any(v.count("red", "circle") != 2 for v in vague) and all(v.background == "white" for v in vague)
    assert scene_elements("a pink triangle on a grey background") == ("grey", [(1, "pink", "triangle", False)])


def test_an_unreliable_image_model_drops_or_recolours_elements():
    kept = []
    for seed in range(20):
        s = inspect_png(render_scene_png("three green triangles", random.Random(seed), accuracy=0.0,
                                         failure_mix=FailureMix(underspecified=1, wrong=1, empty=0)))
        kept.append(s.count("green", "triangle"))
    # each element misses with probability 1/2: on average 1.5 of 3 are right, and never more than 3
    assert max(kept) <= 3 and 0.8 <= sum(kept) / len(kept) <= 2.2 and min(kept) < 3


def test_predict_bodies_are_validated_and_sampled():
    body = {"instances": [{"prompt": "a blue square"}], "parameters": {"sampleCount": 2}}
    preds = render_predict(body, None, 1)["predictions"]
    assert [p["mimeType"] for p in preds] == ["image/png"] * 2
    assert inspect_png(base64.b64decode(preds[0]["bytesBase64Encoded"])).elements == (("blue", "square"),)
    from maestro.sim.engine import BadRequest

    with pytest.raises(BadRequest, match="sampleCount"):
        render_predict({"instances": [{"prompt": "x"}], "parameters": {"sampleCount": 99}})
    with pytest.raises(BadRequest, match="prompt"):
        render_predict({"instances": [{"text": "x"}]})


def test_generate_images_over_http_is_seeded_by_the_run():
    from google import genai
    from google.genai import types

    from maestro.sim import SimServer, gemini_base_url

    def image(server, seed, nonce):
        client = genai.Client(vertexai=True, api_key="k", http_options=types.HttpOptions(
            base_url=gemini_base_url(server.url, "oracle", seed, nonce)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reply = client.models.generate_images(model="imagen-3.0-generate-002",
                                                  prompt="three yellow triangles on a blue background")
        return reply.generated_images[0].image.image_bytes

    with SimServer(time_factor=0) as sim:
        a, b, c = image(sim, 5, "a"), image(sim, 5, "b"), image(sim, 6, "c")
    scene = inspect_png(a)
    assert scene.background == "blue" and scene.count("yellow", "triangle") == 3
    assert a == b and a != c  # same seed, same image; the layout is the run's draw


# --- the judge ---------------------------------------------------------------------------------


def _answer(png):
    return f"Prompt: p\nImage image-1.png: {IMAGE_URI_PREFIX}{base64.b64encode(png).decode()}"


def test_judge_reads_the_image_not_the_words():
    good = _draw((250, 215, 0), [("circle", (230, 30, 30), (5, 5)), ("circle", (230, 30, 30), (50, 5)),
                                 ("square", (30, 80, 230), (5, 60))])
    res = judge(TASK, _answer(good) + "\nScorer: Score: 0/3")
    assert res.judgement == "correct" and res.score == 1.0
    short = _draw((250, 250, 250), [("circle", (230, 30, 30), (5, 5)), ("square", (30, 80, 230), (5, 60))])
    res = judge(TASK, "Score: 3/3 two red circles, a blue square on a yellow background\n" + _answer(short))
    assert res.judgement == "wrong" and res.score == pytest.approx(1 / 3)
    assert "two red circles (found 1)" in res.reason and "a yellow background (found white)" in res.reason
    assert judge(TASK, "two red circles, a blue square, a yellow background").judgement == "wrong"
    assert image_from_answer(_answer(good)) == good and image_from_answer("none") is None


# --- policies -----------------------------------------------------------------------------------


def _ctx(seed=0, accuracy=1.0, mix=FailureMix(), strictness=0.5):
    return PolicyContext(rng=random.Random(seed), profile_name="t", accuracy=accuracy, failure_mix=mix,
                         verbosity=1.0, strictness=strictness)


def _req(agent, messages=(), tools=True):
    offered = {IMAGE_GENERATOR: (GENERATE_TOOL,), IMAGE_SCORER: (SCORE_TOOL,)}.get(agent, ()) if tools else ()
    return SimRequest("gemini", "m", (SimMessage("system", instructions(tools)[agent]),
                                      SimMessage("user", TASK.question), *messages),
                      tools=tuple(SimTool(n, "", {"type": "object"}) for n in offered))


def test_every_llm_agent_has_exactly_one_policy():
    for agent in (PROMPT_WRITER, IMAGE_GENERATOR, IMAGE_SCORER):
        for tools in (True, False):
            assert len([p for p in POLICIES if p.matches(_req(agent, tools=tools))]) == 1
    assert CHECKER in AGENT_NAMES  # the checker is a plain BaseAgent: no model, no policy


def test_prompt_writer_asks_for_every_requirement_then_fixes_what_is_missing():
    first = PromptWriterPolicy().respond(_req(PROMPT_WRITER), _ctx())
    assert parse_requirements(last_prompt(first.text)) == REQS
    vague = PromptWriterPolicy().respond(_req(PROMPT_WRITER), _ctx(accuracy=0.5, mix=FailureMix(0, 0, 0.0001), seed=3))
    assert parse_requirements(last_prompt(vague.text) or "") != REQS
    feedback = (SimMessage("assistant", "Prompt: red circles and a square"),
                SimMessage("user", "[image_scorer] said: Score: 0/3\nMissing: two red circles (found 3); a blue "
                                   "square (found 0); a yellow background (found white)"))
    fixed = PromptWriterPolicy().respond(_req(PROMPT_WRITER, feedback), _ctx())
    assert parse_requirements(last_prompt(fixed.text)) == REQS


def test_generator_renders_the_latest_prompt_and_scorer_reports_the_tool():
    msgs = (SimMessage("user", "[prompt_writer] said: Prompt: old"), SimMessage("user", "[prompt_writer] said: Prompt: new one"))
    call = ImageGeneratorPolicy().respond(_req(IMAGE_GENERATOR, msgs), _ctx())
    assert call.tool_calls == (SimToolCall(GENERATE_TOOL, {"prompt": "new one"}),)
    described = ImageGeneratorPolicy().respond(_req(IMAGE_GENERATOR, msgs, tools=False), _ctx())
    assert described.text == "Image description: new one" and not described.tool_calls
    ask = ImageScorerPolicy().respond(_req(IMAGE_SCORER), _ctx())
    assert ask.tool_calls == (SimToolCall(SCORE_TOOL, {"requirements": [r.text() for r in REQS]}),)
    result = {"checks": [{"requirement": "two red circles", "found": 1, "ok": False},
                         {"requirement": "a blue square", "found": 1, "ok": True}], "passed": 1, "total": 2}
    done = (SimMessage("assistant", "", ask.tool_calls), SimMessage("tool", __import__("json").dumps(result), name=SCORE_TOOL))
    report = ImageScorerPolicy().respond(_req(IMAGE_SCORER, done), _ctx()).text
    assert read_score(report) == (1, 2) and "Missing: two red circles (found 1)" in report
    # accuracy 0: half the reports fail; with a confabulating mix a failed report claims a pass
    scores = {read_score(ImageScorerPolicy().respond(_req(IMAGE_SCORER, done),
                                                     _ctx(seed=k, accuracy=0.0, mix=FailureMix(0, 1, 0))).text)
              for k in range(12)}
    assert scores == {(1, 2), (2, 2)}


# --- the instance ---------------------------------------------------------------------------------


def test_instance_row_and_options():
    from maestro.contract import resolve_options
    from maestro.instances import get_instance

    inst = get_instance("image_scoring")
    i = inst.info
    assert (i.app_field, i.framework, i.interaction, i.n_agents, i.n_tools, i.data_in, i.data_out, i.suites) == (
        "Creativity", "adk", "Debate", 4, 2, "Artifacts", "Closed-Form", "F")
    assert inst.options == OPTIONS and resolve_options(OPTIONS, {})["max_iterations"] == 4


# --- whole runs through the runner ------------------------------------------------------------------


def _message_sequences(study):
    spans = study.spans
    out = {}
    for r in study.runs.itertuples():
        m = spans[(spans.run_id == r.run_id) & (spans.span_type == "message")].sort_values("start_time_ns")
        out[r.run_id] = tuple(zip(m.message_source, m.message_target, strict=True))
    return out


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("image")
    result = maestro.run_study(maestro.StudyConfig(
        study_id="image-t", instances=["image_scoring"], backends=["sim/strong"], tools=(True, False), repeats=1,
        tasks=2, out=str(out), store_answers=True, time_factor=0))
    return maestro.load_study(result.path)


@pytest.mark.slow
def test_image_calls_are_llm_spans_under_the_tool_with_bytes(study):
    runs, spans = study.runs, study.spans
    assert len(runs) == 4 and (runs.status == "success").all() and runs.clean.all(), runs[["status", "error"]]
    for r in runs.itertuples():
        s = spans[spans.run_id == r.run_id]
        assert s.trace_id.nunique() == 1 and s.parent_span_id.isna().sum() == 1
        assert set(s[s.span_type == "agent"].agent_name) >= set(AGENT_NAMES)
        llm = s[s.span_type == "llm"]
        images = llm[llm.operation == "generate_content"]
        tools = s[s.span_type == "tool"]
        rounds = (s[s.span_type == "agent"].agent_name == PROMPT_WRITER).sum()
        if r.tools_enabled:
            gen = tools[tools.tool_name == GENERATE_TOOL]
            assert len(images) == len(gen) == rounds >= 1
            assert set(images.parent_span_id) == set(gen.span_id)
            assert (images.input_bytes > 0).all() and (images.output_bytes > 500).all()  # a PNG came back
            assert (images.request_model == "imagen-3.0-generate-002").all() and (images.provider == "maestro.sim").all()
            assert set(tools.tool_name) == {GENERATE_TOOL, SCORE_TOOL}
        else:
            assert images.empty and tools.empty
        assert llm.input_bytes.sum() == r.llm_request_bytes and len(llm) == r.llm_calls
        seq = _message_sequences(study)[r.run_id]
        assert seq[0] == ("__start__", "image_scoring") and seq[-1] == (CHECKER, "__end__")
        assert seq.count(("image_scoring", CHECKER)) == rounds


@pytest.mark.slow
def test_tools_on_images_meet_the_brief_and_tools_off_have_none(study):
    runs = study.runs
    on, off = runs[runs.tools_enabled], runs[~runs.tools_enabled]
    assert (on.judgement == "correct").sum() >= 1, on[["judgement", "judgement_reason"]]
    assert (off.judgement == "wrong").all() and off.judgement_reason.str.contains("no image").all()
    assert on.answer.str.contains(IMAGE_URI_PREFIX).all()


@pytest.mark.slow
def test_loop_count_and_edge_sequence_vary_with_the_seed(tmp_path):
    # Ten seeds on one brief: the number of rounds is the model's doing (vague prompts, an
    # unreliable image model, a scorer that misreads), so the edge sequences differ.
    # Measured (2026-11-30): confabulating 4 distinct sequences, rounds {1: 4, 2: 4, 3: 1, 4: 1};
    # strong 2 distinct, rounds {1: 9, 2: 1}.
    result = maestro.run_study(maestro.StudyConfig(
        study_id="image-var", instances=["image_scoring"], backends=["sim/confabulating"], tools=(True,), repeats=10,
        tasks=1, out=str(tmp_path), time_factor=0))
    st = maestro.load_study(result.path)
    assert len(st.runs) == 10 and (st.runs.status == "success").all()
    agents = st.spans[st.spans.span_type == "agent"]
    rounds = collections.Counter(agents[agents.agent_name == PROMPT_WRITER].groupby("run_id").size())
    assert len(set(_message_sequences(st).values())) >= 2 and len(rounds) >= 2, rounds
    assert max(rounds) <= OPTIONS[3].default  # the loop's cap
