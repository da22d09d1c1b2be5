"""Field types: parsing what people type, and the rules each type checks."""

import datetime

import pytest

from wizard.flow import fieldtypes
from wizard.flow.fieldtypes import Invalid, id_check_digit, read
from wizard.flow.model import Choice, Field

TODAY = datetime.date(2027, 3, 1)


def f(type_, **kw):
    return Field(id="x", type=type_, path="steps[0].fields[0]", **kw)


def code(field, raw, answers=None):
    with pytest.raises(Invalid) as info:
        read(field, raw, answers or {}, TODAY)
    return info.value


# ------------------------------------------------------------ resident ID (GB 11643)

VALID_ID = "11010519491231002X"  # the standard's own worked example


def test_resident_id_known_example_passes():
    assert read(f("resident_id"), VALID_ID, {}, TODAY) == VALID_ID


def test_resident_id_accepts_lower_case_x_spaces_and_full_width_digits():
    typed = "１１０１０５ 1949 1231 002x"
    assert read(f("resident_id"), typed, {}, TODAY) == VALID_ID


def test_resident_id_wrong_check_digit_says_which():
    error = code(f("resident_id"), "110105194912310021")
    assert error.code == "id_check_digit"
    assert error.params == {"expected": "X"}
    assert "should be X" in error.default_message().format(**error.params)


def test_resident_id_impossible_birth_date_says_which():
    body = "11010520230231002"  # 31 February
    error = code(f("resident_id"), body + id_check_digit(body))
    assert error.code == "id_birth_date"
    assert error.params["digits"] == "20230231"
    assert "20230231" in error.default_message().format(**error.params)


def test_resident_id_future_birth_date_refused():
    body = "11010520300101002"
    error = code(f("resident_id"), body + id_check_digit(body))
    assert error.code == "id_birth_date"


@pytest.mark.parametrize("typed, length", [("1101051949123100", 16), (VALID_ID + "1", 19)])
def test_resident_id_wrong_length_says_how_many(typed, length):
    error = code(f("resident_id"), typed)
    assert error.code == "id_length" and error.params == {"length": length}
    assert str(length) in error.default_message().format(**error.params)


def test_resident_id_letters_refused():
    assert code(f("resident_id"), "11010519491231A02X").code == "id_chars"


def test_resident_id_must_match_birth_date_field():
    body = "31011520230515002"
    number = body + id_check_digit(body)
    field = f("resident_id", birth_date_field="child_dob")
    assert read(field, number, {"child_dob": "2023-05-15"}, TODAY) == number
    error = code(field, number, {"child_dob": "2023-05-16"})
    assert error.code == "id_birth_mismatch"
    assert error.params == {"found": "2023-05-15", "expected": "2023-05-16"}


# ------------------------------------------------------------ mobile numbers


@pytest.mark.parametrize("typed", ["13800138000", "138 0013 8000", "+86 138-0013-8000",
                                   "8613800138000", "１３８００１３８０００"])
def test_mobile_accepts_common_ways_of_writing(typed):
    assert read(f("mobile"), typed, {}, TODAY) == "13800138000"


@pytest.mark.parametrize("typed", ["1380013800", "23800138000", "12800138000", "phone"])
def test_mobile_refuses_non_mainland_numbers(typed):
    assert code(f("mobile"), typed).code == "mobile_invalid"


# ------------------------------------------------------------ dates


def test_date_from_three_boxes():
    assert read(f("date"), {"day": "5", "month": "3", "year": "2023"}, {}, TODAY) == "2023-03-05"


@pytest.mark.parametrize("parts, expected", [
    ({"day": "", "month": "3", "year": "2023"}, "date_incomplete"),
    ({"day": "31", "month": "2", "year": "2023"}, "date_invalid"),
    ({"day": "a", "month": "2", "year": "2023"}, "date_not_numbers"),
    ({"day": "1", "month": "2", "year": "23"}, "date_invalid"),
])
def test_date_problems(parts, expected):
    assert code(f("date"), parts).code == expected


def test_date_range_with_today():
    field = f("date", min="2020-01-01", max="today")
    assert code(field, "2027-03-02").code == "date_too_late"
    assert code(field, "2019-12-31").code == "date_too_early"
    assert read(field, "2027-03-01", {}, TODAY) == "2027-03-01"


def test_flow_message_overrides_default():
    field = f("date", min="2020-01-01", range_message={"en": "Too early for this intake"})
    error = code(field, "2019-01-01")
    assert error.flow_message(field) == {"en": "Too early for this intake"}


# ------------------------------------------------------------ numbers, text, choices


def test_integer_and_range():
    field = f("integer", min=0, max=10)
    assert read(field, " 7 ", {}, TODAY) == 7
    assert code(field, "7.5").code == "not_integer"
    assert code(field, "11").code == "too_large"
    assert code(field, "-1").code == "too_small"


def test_decimal_kept_exact():
    field = f("decimal", places=2)
    assert read(field, "12.50", {}, TODAY) == "12.50"
    assert read(field, ".5", {}, TODAY) == "0.5"
    assert code(field, "1.234").code == "too_many_places"
    assert code(field, "1e5").code == "not_number"
    assert fieldtypes.rule_value(field, "12.50") == 12.5


def test_text_length_and_pattern():
    field = f("text", max_length=5, pattern="[a-z]+")
    assert read(field, "  abc \n", {}, TODAY) == "abc"
    assert code(field, "abcdef").code == "too_long"
    assert code(field, "ABC").code == "pattern"


def test_text_has_a_hard_ceiling_even_without_max_length():
    error = code(f("textarea"), "x" * 5000)
    assert error.code == "too_long" and error.params["max"] == fieldtypes.MAX_TEXT


def test_choice_refuses_values_not_offered():
    field = f("choice", choices=(Choice("a", {"en": "A"}), Choice("b", {"en": "B"})))
    assert read(field, "b", {}, TODAY) == "b"
    assert code(field, "c").code == "not_a_choice"


def test_multichoice_keeps_flow_order_and_drops_duplicates():
    field = f("multichoice", choices=(Choice("a", {}), Choice("b", {}), Choice("c", {})))
    assert read(field, ["c", "a", "c"], {}, TODAY) == ["a", "c"]
    assert code(field, ["a", "zzz"]).code == "not_a_choice"


def test_yes_no():
    assert read(f("yes_no"), "yes", {}, TODAY) is True
    assert read(f("yes_no"), "no", {}, TODAY) is False
    assert code(f("yes_no"), "maybe").code == "not_yes_no"


def test_every_type_gives_keyboard_hints_and_a_widget():
    assert fieldtypes.REGISTRY["integer"].attrs(f("integer"))["inputmode"] == "numeric"
    assert fieldtypes.REGISTRY["mobile"].attrs(f("mobile"))["inputmode"] == "tel"
    for name, ftype in fieldtypes.REGISTRY.items():
        assert ftype.widget, name


def test_every_message_code_has_a_default_sentence():
    for codes in fieldtypes.OVERRIDES.values():
        for c in codes:
            assert c in fieldtypes.MESSAGES
