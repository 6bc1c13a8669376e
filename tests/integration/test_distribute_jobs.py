"""Distribute.AI's async speech jobs, polled as its docs show, plus their refusals."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft4Validator

from tests.integration.test_distribute import wav_seconds_and_pitch
from tests.plugins.scripted import expressive_seconds
from tests.support.seeds import DISTRIBUTE_ASYNC, validator
from tests.support.tenants import tenant_key

CREATE = "/async/speech/create"
RESULT = "/async/speech/result"
CREATE_REQUEST = validator(DISTRIBUTE_ASYNC, CREATE, "requestBody")
CREATED = validator(DISTRIBUTE_ASYNC, CREATE, "responses", "200")
CREATE_BAD = validator(DISTRIBUTE_ASYNC, CREATE, "responses", "400")
NOT_FOUND = validator(DISTRIBUTE_ASYNC, CREATE, "responses", "404")
# The result has no seed; this is its documented shape.
RESULT_SCHEMA = Draft4Validator(
    {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "status": {
                "enum": [
                    "CREATED",
                    "QUEUED",
                    "POSTPONED",
                    "ASSIGNED_CONNECTIONS",
                    "PROCESSING",
                    "COMPLETED",
                    "ERROR",
                ]
            },
            "created": {"type": "number"},
            "finished": {"type": "number"},
            "model": {"type": "string"},
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"url": {"type": "string"}},
                    "required": ["url"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["id", "status", "created", "model", "results"],
        "additionalProperties": False,
    }
)
FINISHED = ("COMPLETED", "ERROR")


def create_job(client: httpx.Client, prefix: str = "", **fields: Any) -> str:
    """Create a job with a body valid by Distribute's schema; its id."""
    body = {"model": "Chatterbox", "input": "Queued for later.", **fields}
    CREATE_REQUEST.validate(body)
    response = client.post(f"{prefix}{CREATE}", json=body)
    assert response.status_code == 200, response.text
    CREATED.validate(response.json())
    job_id: str = response.json()["id"]
    return job_id


def poll(
    client: httpx.Client, job_id: str, prefix: str = "", timeout: float = 30.0
) -> httpx.Response:
    """Poll the job's result until it is finished, checking each answer's shape."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.post(f"{prefix}{RESULT}", json={"id": job_id})
        assert response.status_code == 200, response.text
        RESULT_SCHEMA.validate(response.json())
        if response.json()["status"] in FINISHED or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


@pytest.fixture
def distribute(router_url: str, api_key: str) -> Iterator[httpx.Client]:
    """A client as Distribute's docs show it: the raw key in `authorization`."""
    with httpx.Client(base_url=router_url, headers={"authorization": api_key}) as client:
        yield client


@pytest.mark.parametrize("prefix", ["", "/distribute"])
def test_async_job_is_polled_to_completed_and_its_url_is_a_wav(
    distribute: httpx.Client, prefix: str
) -> None:
    started = time.time() * 1000
    job_id = create_job(distribute, prefix, voice="nora", temperature=0.25)
    result = poll(distribute, job_id, prefix).json()
    assert result["status"] == "COMPLETED"
    assert (result["id"], result["model"]) == (job_id, "Chatterbox")
    assert started - 1000 <= result["created"] <= result["finished"] <= time.time() * 1000
    [output] = result["results"]
    fetched = httpx.get(output["url"])
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "audio/wav"
    seconds, _ = wav_seconds_and_pitch(fetched.content)
    assert seconds == pytest.approx(expressive_seconds(0.25), abs=0.01)


def test_job_usage_is_one_row_under_the_job_id(
    distribute: httpx.Client, admin: httpx.Client
) -> None:
    job_id = create_job(distribute, input="Metered once.")
    assert poll(distribute, job_id).json()["status"] == "COMPLETED"
    export = admin.get("/admin/v1/usage/export").text
    mine = [row for row in csv.DictReader(io.StringIO(export)) if row["request_id"] == job_id]
    assert [(row["dialect"], row["status"], row["requested_model"]) for row in mine] == [
        ("distribute", "200", "Chatterbox")
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"input": "x"}, "body/input must NOT have fewer than 2 characters"),
        ({"response_format": "wav"}, "body must NOT have additional properties"),
        ({"model": "chatterbox"}, "body/model must be equal to one of the allowed values"),
        ({"model": None}, "body must have required property 'model'"),
        ({"cfg_weight": 2}, "body/cfg_weight must be <= 1"),
        ({"temperature": "hot"}, "body/temperature must be number"),
    ],
)
def test_bad_create_bodies_get_ajv_messages(
    distribute: httpx.Client, change: dict[str, Any], message: str
) -> None:
    body = {"model": "Chatterbox", "input": "Hi there", **change}
    response = distribute.post(CREATE, json={k: v for k, v in body.items() if v is not None})
    assert response.status_code == 400
    CREATE_BAD.validate(response.json())
    assert response.json() == {"message": message}


def test_a_voice_no_model_has_is_refused_at_creation(distribute: httpx.Client) -> None:
    body = {"model": "Chatterbox", "input": "Hi there", "voice": "bob"}
    response = distribute.post(CREATE, json=body)
    assert response.status_code == 400
    assert "Voice `bob` is not available" in response.json()["message"]


def test_unknown_and_malformed_ids(distribute: httpx.Client) -> None:
    unknown = "0b6f1e9e-3c1d-4a8b-9f3e-2d7c5a1b4e6f"
    response = distribute.post(RESULT, json={"id": unknown})
    assert response.status_code == 404
    NOT_FOUND.validate(response.json())
    assert unknown in response.json()["message"]
    malformed = distribute.post(RESULT, json={"id": "../../etc/passwd"})
    assert malformed.status_code == 400
    assert malformed.json()["message"].startswith('body/id must match pattern "^[a-fA-F0-9]{8}')
    missing = distribute.post(RESULT, json={})
    assert missing.json() == {"message": "body must have required property 'id'"}


def test_another_tenant_cannot_see_a_job(
    distribute: httpx.Client, admin: httpx.Client, router_url: str
) -> None:
    job_id = create_job(distribute)
    stranger = tenant_key(admin)
    headers = {"authorization": stranger}
    response = httpx.post(f"{router_url}{RESULT}", json={"id": job_id}, headers=headers)
    assert response.status_code == 404
    assert response.json() == {"message": f"Task {job_id} not found."}
    assert poll(distribute, job_id).status_code == 200


def test_jobs_need_a_key(router_url: str) -> None:
    for path in (CREATE, RESULT, f"/distribute{CREATE}"):
        response = httpx.post(f"{router_url}{path}", json={"id": "x"})
        assert response.status_code == 401
        assert set(response.json()) == {"message"}
        wrong = httpx.post(f"{router_url}{path}", json={}, headers={"authorization": "tr-wrong"})
        assert wrong.status_code == 401
        assert "tr-wrong" not in wrong.text
