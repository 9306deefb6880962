"""The call flow's TwiML and the rendering of staff scripts."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clicktocall import callflow
from clicktocall.models import CallAttempt, CampaignLine, Target

pytestmark = pytest.mark.django_db


def parse(response) -> ET.Element:
    return ET.fromstring(str(response).encode())


@pytest.fixture
def flow_line(line):
    line.script = "Hi {{ name }} of {{ zip }}."
    line.save()
    Target.objects.create(line=line, position=0, name="Office A", phone_number="+12025550100", extension="123")
    Target.objects.create(line=line, position=1, name="Office B", phone_number="+12025550101", is_active=False)
    Target.objects.create(line=line, position=2, name="Office C", phone_number="+12025550102")
    return line


def make_flow(line, **variables):
    attempt = CallAttempt.objects.create(line=line, phone="+16175232338", name="Ann", variables=variables)
    return attempt, callflow.CallFlow.for_attempt(attempt)


class TestRender:
    def test_substitutes_names_and_empties_missing(self):
        assert (
            callflow.render("Hi {{ name }}, {{zip}}! {{ nope }}", {"name": "Ann", "zip": "02113"}) == "Hi Ann, 02113!"
        )

    def test_template_language_is_never_evaluated(self):
        text = "{% load static %}{% if name %}A{% endif %}{# c #}{{ name|upper }}{{ settings.SECRET_KEY }}{{ name }}"
        assert callflow.render(text, {"name": "ann", "settings": {"SECRET_KEY": "x"}}) == "Aann"

    def test_values_are_plain_bounded_text(self):
        assert (
            callflow.render("{{ a }}|{{ b }}|{{ c }}|{{ d }}", {"a": 7, "b": None, "c": {"x": 1}, "d": ["x"]}) == "7|||"
        )
        assert callflow.render("{{ a }}", {"a": "x\x00y\nz"}) == "x y z"
        assert len(callflow.render("{{ a }}", {"a": "w" * 5000})) == callflow.MAX_VALUE_LENGTH

    def test_placeholders(self):
        assert callflow.placeholders("{{ zip }} {{ name }} {{ zip }} {{ a|b }} {% x %}") == ["zip", "name"]

    @settings(deadline=None)  # the first example imports twilio's TwiML module
    @given(st.text(max_size=60), st.dictionaries(st.text(max_size=8), st.text(max_size=30), max_size=4))
    def test_never_crashes_nor_leaks_template_syntax_into_twiml(self, template, variables):
        text = callflow.render(template + " {{ k }}", {"k": "</Say><Hangup/>", **variables})
        assert isinstance(text, str)
        line = CampaignLine(phone_number="+18559299898", script=template, closing_message="")
        flow = callflow.CallFlow(line, [], variables, callflow.FlowUrls.for_token("t"))
        root = parse(flow.answer())
        assert [verb.tag for verb in root][-1] == "Hangup"
        assert all(verb.tag in {"Say", "Hangup"} for verb in root)


def test_human_check_gathers_the_script_and_prompt(flow_line):
    attempt, flow = make_flow(flow_line, zip="02113")
    root = parse(flow.answer())
    gather = root.find("Gather")
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == f"https://calls.example.org/clicktocall/twilio/gather/{attempt.token}/"
    says = [say.text for say in gather.findall("Say")]
    assert says == ["Hi Ann of 02113.", callflow.PROMPT_CONNECT]
    assert gather.find("Say").get("voice") == "Polly.Joanna" and gather.find("Say").get("language") == "en-US"
    assert [verb.tag for verb in root] == ["Gather", "Redirect"]
    assert root.find("Redirect").text == gather.get("action")


def test_targets_in_order_with_extensions_and_star(flow_line):
    attempt, flow = make_flow(flow_line)
    first = parse(flow.keypress("1"))
    assert first.find("Say").text.startswith("Connecting you to Office A.")
    dial = first.find("Dial")
    assert dial.get("hangupOnStar") == "true" and dial.get("callerId") == flow_line.phone_number
    assert dial.get("action") == f"https://calls.example.org/clicktocall/twilio/dial/{attempt.token}/0/"
    assert dial.find("Number").text == "+12025550100" and dial.find("Number").get("sendDigits") == "123"
    second = parse(flow.connect(1, "no-answer"))
    assert [say.text for say in second.findall("Say")] == ["Office A did not answer.", "Connecting you to Office C."]
    assert second.find("Dial/Number").get("sendDigits") is None
    last = parse(flow.connect(2, "completed"))
    assert [verb.tag for verb in last] == ["Say", "Hangup"]
    assert last.find("Say").text == flow_line.closing_message


def test_other_keys_repeat_the_prompt(flow_line):
    _, flow = make_flow(flow_line)
    root = parse(flow.keypress("5"))
    assert root.find("Gather/Say").text.startswith(callflow.PROMPT_AGAIN)


def test_no_human_check_connects_after_the_script(flow_line):
    flow_line.human_check = CampaignLine.HumanCheck.NONE
    flow_line.save()
    _, flow = make_flow(flow_line)
    assert [verb.tag for verb in parse(flow.answer())] == ["Say", "Say", "Dial"]


def test_machine_detection_modes(line):
    assert callflow.machine_detection(line) == ""
    line.human_check = CampaignLine.HumanCheck.MACHINE_DETECTION
    assert callflow.machine_detection(line) == "Enable"
    line.machine_action = CampaignLine.MachineAction.LEAVE_MESSAGE
    assert callflow.machine_detection(line) == "DetectMessageEnd"


def test_twiml_escapes_values(flow_line):
    _, flow = make_flow(flow_line, zip='<Dial>+19005550000</Dial>"&')
    xml = str(flow.answer())
    assert "<Dial>" not in xml and "&lt;Dial&gt;" in xml
    assert parse(xml).find("Gather/Say").text == 'Hi Ann of <Dial>+19005550000</Dial>"&.'


def test_preview_and_transcript(flow_line):
    stages = callflow.preview(flow_line, {"name": "Ann", "zip": "02113"})
    titles = [stage.title for stage in stages]
    assert titles == [
        "A person answers",
        "The person presses 1",
        "The person presses 9 (opt-out)",
        "No key or another key is pressed",
        "After the call with Office A ends (or * is pressed)",
        "After the call with Office C ends (or * is pressed)",
    ]
    text = callflow.transcript(flow_line, {"name": "Ann", "zip": "02113"})
    assert 'Says: "Hi Ann of 02113."' in text
    assert "Dials +12025550100, then sends the digits 123 (* moves on)" in text
    assert "Office B" not in text
