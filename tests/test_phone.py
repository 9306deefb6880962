"""The numbers ``normalize`` and ``region_of`` remember: the same answers as parsing, and a bounded memory."""

from __future__ import annotations

import pytest

from clicktocall import phone


@pytest.fixture(autouse=True)
def forget():
    phone._normalized.cache_clear()
    phone._region_of.cache_clear()
    yield
    phone._normalized.cache_clear()
    phone._region_of.cache_clear()


def test_a_remembered_number_gives_the_same_answer():
    assert phone.normalize("(855) 929-9898") == phone.normalize("(855) 929-9898") == "+18559299898"
    assert phone._normalized.cache_info().hits == 1


def test_a_remembered_refusal_gives_the_same_reason():
    reasons = []
    for _ in range(2):
        with pytest.raises(phone.InvalidNumber) as refused:
            phone.normalize("not a number")
        reasons.append(str(refused.value))
    with pytest.raises(phone.InvalidNumber) as parsed:
        phone.parse("not a number")
    assert reasons == [str(parsed.value)] * 2


def test_the_region_is_part_of_what_is_remembered(settings):
    assert phone.normalize("020 7946 0958", "GB") == "+442079460958"
    with pytest.raises(phone.InvalidNumber):
        phone.normalize("020 7946 0958", "US")
    settings.CLICKTOCALL_DEFAULT_REGION = "GB"
    assert phone.normalize("020 7946 0958") == "+442079460958"


def test_at_most_a_bounded_number_of_texts_are_remembered():
    for n in range(phone.NORMALIZED_MAX + 50):
        phone.normalize(f"+1 617 555 {n:04d}")
    assert phone._normalized.cache_info().currsize == phone.NORMALIZED_MAX


def test_text_too_long_to_be_a_number_is_not_remembered():
    with pytest.raises(phone.InvalidNumber, match="empty or too long"):
        phone.normalize("6" * (phone.TEXT_MAX + 1))
    assert phone._normalized.cache_info().currsize == 0


@pytest.mark.parametrize(
    "e164, region", [("+18559299898", "US"), ("+442079460958", "GB"), ("+80012345678", "001"), ("not a number", None)]
)
def test_a_remembered_region_is_the_numbers_region(e164, region):
    assert phone.region_of(e164) == phone.region_of(e164) == region
    assert phone._region_of.cache_info().hits == 1


def test_at_most_a_bounded_number_of_regions_are_remembered():
    for n in range(phone.NORMALIZED_MAX + 50):
        phone.region_of(f"+1617555{n:04d}")
    assert phone._region_of.cache_info().currsize == phone.NORMALIZED_MAX
    assert phone.region_of("+" + "1" * phone.TEXT_MAX) is None
    assert phone._region_of.cache_info().currsize == phone.NORMALIZED_MAX
