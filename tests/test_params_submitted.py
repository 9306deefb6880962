"""What an attempt keeps of the raw parameters (``submitted``): bounded in JSON-encoded bytes."""

from __future__ import annotations

import json

import pytest

from clicktocall.outgoing import params


@pytest.mark.parametrize(
    "value",
    ["", "text", "é ü 漢字 🙂", 'quote " backslash \\ newline \n tab \t', "\ufffd\x01\x7f", 0, -17, 10**30, 1.5, 1e300]
    + [-0.0, True, False, None],
)
def test_the_json_length_of_a_scalar_is_its_encoding_s(value):
    assert params._json_length(value) == len(json.dumps(value))


@pytest.mark.parametrize("width", [1, 7, 40, 255, 300])
def test_the_kept_parameters_are_the_longest_run_that_fits(width):
    submitted = {"phone": "not a number", "campaign_line": "8559299898"}
    submitted.update({f"field{n}": ("é" * width if n % 2 else n * 1.5) for n in range(400)})
    kept = params._keepable(submitted, set())
    keys = list(kept)
    assert keys[:2] == ["phone", "campaign_line"] and keys == list(submitted)[: len(keys)]
    assert len(json.dumps(kept)) + 2 <= params.SUBMITTED_MAX_BYTES
    following = list(submitted)[len(keys)]
    more = {**kept, following: params._keepable({following: submitted[following]}, set())[following]}
    assert len(json.dumps(more)) + 2 > params.SUBMITTED_MAX_BYTES
