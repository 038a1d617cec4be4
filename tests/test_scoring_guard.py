"""The guard in front of MLflow's scoring app: requests MLflow answered with 500, or read wrongly."""

from __future__ import annotations

import asyncio
import json

import pytest

from lithioscreen.tracking.scoring_guard import MAX_JSON_DEPTH, GuardedApp, Rejected, check_request


def _reject(body, content_type="application/json", **kwargs) -> Rejected:
    with pytest.raises(Rejected) as raised:
        check_request(body if isinstance(body, bytes) else body.encode(), content_type, **kwargs)
    return raised.value


def test_the_row_cap_agrees_with_the_models():
    """One number: the pyfunc's cap (in the model's own code) and the server's."""
    from lithioscreen.tracking import scoring_guard

    source = scoring_guard.__file__.rsplit("/", 1)[0] + "/pyfunc_model.py"
    text = open(source, encoding="utf-8").read()
    assert f"MAX_ROWS_PER_REQUEST = {scoring_guard.MAX_ROWS_PER_REQUEST:_}" in text


@pytest.mark.parametrize("content_type", [None, "", "  "])
def test_no_content_type_is_415(content_type):
    assert _reject('{"dataframe_records": []}', content_type).status == 415


def test_json_nested_100k_deep_is_400():
    rejected = _reject("[" * 100_000 + "]" * 100_000)
    assert rejected.status == 400 and "nested too deep" in rejected.message
    assert (
        _reject(
            json.dumps({"dataframe_records": [{"candidate": [[[[[[]]]]]] * 1}]}).replace("[]", "[" * 40 + "]" * 40)
        ).status
        == 400
    )


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_no_thickness(constant):
    rejected = _reject('{"dataframe_records": [{"candidate": "W", "overlayer_nm": ' + constant + "}]}")
    assert rejected.status == 400 and constant.lstrip("-") in rejected.message


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_records": [{"candidate": "W"}, {"candidate": "Nb", "overlayer_nm": True}]},
        {"dataframe_split": {"columns": ["candidate", "overlayer_nm"], "data": [["W", 30], ["Nb", True]]}},
        {"inputs": {"candidate": ["W", "Nb"], "overlayer_nm": [30, True]}},
        {"instances": [{"candidate": "W"}, {"candidate": "Nb", "overlayer_nm": "30"}]},
        {"dataframe_records": [{"candidate": "W"}, {"candidate": "Nb", "underlayer_nm": [200]}]},
    ],
)
def test_a_thickness_that_is_not_a_number_is_400_naming_the_row(body):
    rejected = _reject(json.dumps(body))
    assert rejected.status == 400 and "row 2" in rejected.message and "_nm" in rejected.message


def test_too_many_rows_is_413():
    rows = [{"candidate": "W"}] * 11
    assert _reject(json.dumps({"dataframe_records": rows}), max_rows=10).status == 413
    assert (
        _reject(json.dumps({"dataframe_split": {"columns": ["candidate"], "data": [["W"]] * 11}}), max_rows=10).status
        == 413
    )
    assert _reject("candidate\n" + "W\n" * 11, "text/csv", max_rows=10).status == 413
    check_request(json.dumps({"dataframe_records": rows[:10]}).encode(), "application/json", max_rows=10)


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "true", "３０", "NA"])
def test_csv_thickness_must_be_an_ascii_number_or_empty(cell):
    rejected = _reject(f"candidate,overlayer_nm\nW,30\nNb,{cell}\n", "text/csv")
    assert rejected.status == 400 and "row 2" in rejected.message


@pytest.mark.parametrize(
    "body, content_type",
    [
        (
            '{"dataframe_records": [{"candidate": "W", "overlayer_nm": 30}, {"candidate": "Nb", "overlayer_nm": null}]}',
            "application/json",
        ),
        ('{"dataframe_records": [{"candidate": "W"}', "application/json"),  # malformed: MLflow's own 400 says where
        ('{"instances_of_nothing": [1]}', "application/json; charset=utf-8"),
        ("candidate,overlayer_nm\nW,30\nNb,\n", "text/csv"),
        ("anything", "application/x-parquet"),
    ],
)
def test_everything_else_goes_to_mlflow(body, content_type):
    check_request(body.encode(), content_type)


class _Recorder:
    """An inner ASGI app that records the body it received and answers 200."""

    def __init__(self):
        self.bodies = []

    async def __call__(self, scope, receive, send):
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _call(app, body: bytes, headers, chunk: int = 1 << 16, path="/invocations", method="POST"):
    messages = [
        {"type": "http.request", "body": body[i : i + chunk], "more_body": i + chunk < len(body)}
        for i in range(0, max(len(body), 1), chunk)
    ]
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": [(k.encode(), v.encode()) for k, v in headers]}
    asyncio.run(app(scope, receive, send))
    status = sent[0]["status"]
    return status, b"".join(m.get("body", b"") for m in sent[1:])


def test_asgi_guard_passes_good_requests_through_byte_for_byte():
    inner = _Recorder()
    body = json.dumps({"dataframe_records": [{"candidate": "W"}] * 50}).encode()
    status, answer = _call(GuardedApp(inner), body, [("content-type", "application/json")], chunk=100)
    assert status == 200 and answer == b"ok" and inner.bodies == [body]
    status, _ = _call(GuardedApp(inner), b"", [], path="/ping", method="GET")  # other routes untouched
    assert status == 200


def test_asgi_guard_answers_413_above_the_byte_cap_without_reading_on():
    inner = _Recorder()
    body = b"x" * 5000
    status, answer = _call(GuardedApp(inner, max_bytes=1000), body, [("content-type", "application/json")], chunk=600)
    assert status == 413 and "1,000 bytes" in json.loads(answer)["message"] and inner.bodies == []
    status, _ = _call(
        GuardedApp(inner, max_bytes=1000), b"{}", [("content-type", "application/json"), ("content-length", "999999")]
    )
    assert status == 413 and inner.bodies == []


def test_asgi_guard_answers_json_errors_like_mlflow():
    inner = _Recorder()
    status, answer = _call(GuardedApp(inner), b'{"dataframe_records": []}', [])
    assert status == 415 and set(json.loads(answer)) == {"error_code", "message"}
    status, answer = _call(
        GuardedApp(inner),
        ("[" * (MAX_JSON_DEPTH + 5) + "]" * (MAX_JSON_DEPTH + 5)).encode(),
        [("content-type", "application/json")],
    )
    assert status == 400 and "nested too deep" in json.loads(answer)["message"] and inner.bodies == []
