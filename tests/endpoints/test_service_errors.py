"""One reading of a service's ValidationError: the API's 400 body, the forms' errors and the admin's message.

The services raise Django's ValidationError (``gatewaylib.errors.invalid``
keeps a list field's per-item errors); these tests pin each place it shows
up, from the same error.
"""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import ValidationError
from rest_framework import exceptions as drf
from rest_framework.renderers import JSONRenderer
from rest_framework.views import exception_handler as drf_exception_handler

from endpoints.forms import EndpointForm, ModelRowFormSet, apply_service_errors, used_rows
from gatewaylib import errors
from gatewaylib.api import exception_handler
from gatewaylib.ui import add_row_errors, add_service_errors
from tests.endpoints.conftest import URL, model_body

# What validate_models and the endpoint's own checks could say together.
REFUSAL = {
    "name": ["An endpoint named 'chat' already exists."],
    "models": [{}, {"key_id": ["Key 'gone' does not exist."], "model_name": ["Not in the catalog.", "Too long."]}],
    "weights": ["The weights of priority 1 sum to 1.1; they must sum to 1.0."],
}


def refusal() -> ValidationError:
    return errors.invalid(REFUSAL)


def as_json(response) -> bytes:
    return JSONRenderer().render(response.data)


def test_the_api_body_keeps_fields_and_each_models_errors_in_order():
    response = exception_handler(refusal(), {})

    assert response.status_code == 400
    assert response.data == REFUSAL
    # Byte for byte what DRF answered when the services raised its own ValidationError.
    assert as_json(response) == as_json(drf_exception_handler(drf.ValidationError(REFUSAL), {}))


def test_a_start_refusal_is_answered_as_drf_answered_it():
    message = "The key 'openai' cannot be decrypted."
    response = exception_handler(ValidationError({"detail": message}), {})

    assert response.status_code == 400
    assert as_json(response) == as_json(drf_exception_handler(drf.ValidationError({"detail": message}), {}))


def test_a_message_about_the_whole_endpoint_is_detail_as_a_string_and_one_without_a_field_is_non_field_errors():
    assert errors.detail(ValidationError({"detail": "The key cannot be decrypted."})) == {
        "detail": "The key cannot be decrypted."
    }
    assert errors.detail(ValidationError("Give exactly one.")) == {"non_field_errors": ["Give exactly one."]}
    named = ValidationError({"name": ValidationError("%(name)s is taken.", params={"name": "chat"})})
    assert errors.detail(named) == {"name": ["chat is taken."]}  # formatted as Django formats it


def test_djangos_own_readings_stay_flat():
    error = refusal()

    assert error.messages == [
        "An endpoint named 'chat' already exists.",
        "Key 'gone' does not exist.",
        "Not in the catalog.",
        "Too long.",
        "The weights of priority 1 sum to 1.1; they must sum to 1.0.",
    ]
    assert error.message_dict["models"] == ["Key 'gone' does not exist.", "Not in the catalog.", "Too long."]


def test_the_admin_message_says_where_each_problem_is():
    assert errors.lines(refusal()) == [
        "name: An endpoint named 'chat' already exists.",
        "models[2].key_id: Key 'gone' does not exist.",
        "models[2].model_name: Not in the catalog.",
        "models[2].model_name: Too long.",
        "weights: The weights of priority 1 sum to 1.1; they must sum to 1.0.",
    ]
    assert errors.lines(ValidationError({"detail": "The key cannot be decrypted."})) == ["The key cannot be decrypted."]


class NameForm(forms.Form):
    name = forms.CharField()


def test_a_form_gets_each_field_inline_and_the_rest_at_the_top():
    form = NameForm({"name": "chat"})
    assert form.is_valid()

    add_service_errors(form, refusal())

    assert form.errors["name"] == ["An endpoint named 'chat' already exists."]
    assert form.non_field_errors() == [
        "Key 'gone' does not exist.",
        "Not in the catalog.",
        "Too long.",
        "The weights of priority 1 sum to 1.1; they must sum to 1.0.",
    ]


def test_kept_fields_are_returned_and_each_item_goes_on_its_row():
    form, rows = NameForm({"name": "chat"}), [NameForm({"name": "a"}), NameForm({"name": "b"})]
    assert form.is_valid() and all(row.is_valid() for row in rows)

    kept = add_service_errors(form, refusal(), keep=("models", "weights"))
    general = add_row_errors(rows, kept["models"] + ["At least one."], lambda row, name: "name")

    assert list(form.errors) == ["name"]
    assert kept["weights"] == REFUSAL["weights"] and general == ["At least one."]
    assert not rows[0].errors
    assert rows[1].errors["name"] == ["Key 'gone' does not exist.", "Not in the catalog.", "Too long."]


@pytest.mark.django_db
def test_the_endpoint_form_puts_a_models_errors_on_its_row_fields():
    data = {
        "name": "chat",
        "endpoint_type": "chat",
        "models-TOTAL_FORMS": "2",
        "models-INITIAL_FORMS": "0",
        **{f"models-{i}-{field}": value for i in (0, 1) for field, value in (("provider", "openai"), ("key_id", "k"))},
        "models-0-model_name": "gpt-4o",
        "models-1-model_name": "gpt-4o-mini",
    }
    form, formset = EndpointForm(data), ModelRowFormSet(data, prefix="models")
    assert form.is_valid() and formset.is_valid()
    rows = used_rows(formset)

    shown_with_rows = apply_service_errors(refusal(), form, rows)

    assert form.errors == {"name": ["An endpoint named 'chat' already exists."]}
    assert not rows[0].errors
    assert rows[1].errors == {
        "key_id": ["Key 'gone' does not exist."],
        "model_name": ["Not in the catalog.", "Too long."],
    }
    assert shown_with_rows == REFUSAL["weights"]


@pytest.mark.django_db
def test_the_api_answers_a_refused_model_set_with_the_same_body(api, alice, openai_key):
    models = [model_body(openai_key), model_body(openai_key, key_id="0" * 32, model_name="no-such-model")]

    response = api(alice).post(URL, {"name": "ep", "endpoint_type": "chat", "models": models}, format="json")

    assert response.status_code == 400
    assert response.json() == {"models": [{}, {"key_id": [f"Key {'0' * 32!r} does not exist."]}]}
