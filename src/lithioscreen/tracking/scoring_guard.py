"""A thin guard in front of MLflow's scoring app (``lithioscreen serve``): what MLflow answers with 500.

MLflow's own app (``mlflow.pyfunc.scoring_server.init``) parses the body and calls the model; the
model (:mod:`lithioscreen.tracking.pyfunc_model`) validates every row. Some requests never reach
the model, or reach it changed, and this ASGI wrapper answers them first, for ``POST /invocations``:

* no ``Content-Type``: 415 (MLflow: 500, it splits ``None``);
* a body above :data:`MAX_REQUEST_BYTES`: 413, read no further (MLflow reads any size);
* JSON nested deeper than :data:`MAX_JSON_DEPTH`: 400 (MLflow: 500, a ``RecursionError``);
* ``NaN``/``Infinity`` (not JSON, but Python reads them): 400 (a NaN thickness became 30 nm);
* more rows than :data:`MAX_ROWS_PER_REQUEST`: 413 (the model refuses them too, with 400);
* a thickness that is not a number or null (``true`` became 1 nm; ``"nan"`` in CSV): 400 naming
  the row and the column.

Everything else goes to MLflow's app untouched (malformed JSON, unknown keys, bad candidates keep
MLflow's and the model's own 400 answers). This module imports nothing from ``lithioscreen``:
``serving_app`` loads it as a top-level module, so that the ``lithioscreen`` package is first
imported by the model itself, from the copy logged with it (``code_paths``).
"""

from __future__ import annotations

import csv
import io
import json
import re

#: Rows per request; the same cap as ``pyfunc_model.MAX_ROWS_PER_REQUEST`` (a test checks that they agree).
MAX_ROWS_PER_REQUEST = 10_000
#: Bytes per request body: room for :data:`MAX_ROWS_PER_REQUEST` rows of
#: ``{"candidate": "Cr0.5W0.5", "overlayer_nm": 30, ...}``, even as pretty-printed JSON.
MAX_REQUEST_BYTES = 8 * 1024 * 1024
#: ``{"dataframe_split": {"data": [[...]]}}`` is 3 deep; anything past 32 is no data frame.
MAX_JSON_DEPTH = 32
THICKNESS_COLUMNS = ("overlayer_nm", "underlayer_nm")
_ASCII_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class Rejected(Exception):
    """A request answered here: HTTP ``status`` with a JSON ``{"error_code", "message"}``.

    Parameters
    ----------
    status : int
        The HTTP status (400, 413 or 415).
    message : str
        What is wrong, for the client.
    """

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message

    def body(self) -> bytes:
        """The response body, as MLflow's own errors look.

        Returns
        -------
        bytes
            JSON ``{"error_code": ..., "message": ...}``; the code is ``RESOURCE_EXHAUSTED`` for 413,
            ``BAD_REQUEST`` for 415, otherwise ``INVALID_PARAMETER_VALUE``.
        """
        code = {413: "RESOURCE_EXHAUSTED", 415: "BAD_REQUEST"}.get(self.status, "INVALID_PARAMETER_VALUE")
        return json.dumps({"error_code": code, "message": self.message}).encode()


class _NotJson(ValueError):
    pass


def _no_constants(name: str):
    raise _NotJson(f"{name} is not valid JSON (a thickness must be a number, or null for the default)")


def _depth(value) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


def _rows(payload) -> list[dict] | None:
    """The request's rows as dicts (MLflow's dataframe_records / dataframe_split / instances / inputs), if readable."""
    for key in ("dataframe_records", "instances", "inputs"):
        data = payload.get(key) if isinstance(payload, dict) else None
        if isinstance(data, list):
            return [row if isinstance(row, dict) else {} for row in data]
        if isinstance(data, dict) and all(isinstance(v, list) for v in data.values()):  # columns -> values
            length = max((len(v) for v in data.values()), default=0)
            return [{k: v[i] for k, v in data.items() if i < len(v)} for i in range(length)]
    split = payload.get("dataframe_split") if isinstance(payload, dict) else None
    if isinstance(split, dict) and isinstance(split.get("data"), list):
        columns = split.get("columns") or []
        return [dict(zip(columns, row)) if isinstance(row, list) else {} for row in split["data"]]
    return None


def _check_rows(rows: list[dict], max_rows: int) -> None:
    if len(rows) > max_rows:
        raise Rejected(413, f"input: {len(rows):,} rows; at most {max_rows:,} per request (split the request)")
    for position, row in enumerate(rows, start=1):
        for column in THICKNESS_COLUMNS:
            value = row.get(column)
            if value is None:
                continue  # missing: the paper's stack (30 nm on 200 nm Mg)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise Rejected(
                    400,
                    f"input: row {position}: {column} {json.dumps(value)} is not a number (nm), or null for the default",
                )


def check_request(body: bytes, content_type: str | None, max_rows: int = MAX_ROWS_PER_REQUEST) -> None:
    """Raise :class:`Rejected` for a request MLflow would answer with 500 or read wrongly; else return.

    Malformed JSON or CSV is let through: MLflow's own 400 says where.

    Parameters
    ----------
    body : bytes
        The whole request body.
    content_type : str or None
        The ``Content-Type`` header.
    max_rows : int
        Rows allowed per request.

    Raises
    ------
    Rejected
        415 without a Content-Type; 413 for too many rows; 400 for JSON nested deeper than
        :data:`MAX_JSON_DEPTH`, ``NaN``/``Infinity``, or a thickness that is not a number or null.
    """
    if not content_type or not content_type.strip():
        raise Rejected(415, "no Content-Type: send 'Content-Type: application/json' (or text/csv)")
    mime = content_type.split(";")[0].strip().lower()
    if mime == "application/json":
        try:
            payload = json.loads(body, parse_constant=_no_constants)
        except RecursionError:
            raise Rejected(400, f"input: JSON nested too deep (at most {MAX_JSON_DEPTH} levels)") from None
        except _NotJson as error:
            raise Rejected(400, f"input: {error}") from None
        except ValueError:
            return  # malformed JSON: MLflow's own 400 says where
        if _depth(payload) > MAX_JSON_DEPTH:
            raise Rejected(400, f"input: JSON nested too deep (at most {MAX_JSON_DEPTH} levels)")
        rows = _rows(payload)
        if rows is not None:
            _check_rows(rows, max_rows)
    elif mime == "text/csv":
        try:
            records = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
        except (UnicodeDecodeError, csv.Error):
            return  # MLflow's own 400
        if len(records) > max_rows:
            raise Rejected(413, f"input: {len(records):,} rows; at most {max_rows:,} per request (split the request)")
        for position, record in enumerate(records, start=1):
            for column in THICKNESS_COLUMNS:
                text = (record.get(column) or "").strip()
                if text and not _ASCII_NUMBER.fullmatch(text):
                    raise Rejected(
                        400,
                        f"input: row {position}: {column} {text!r} is not a number (nm); leave it empty for the default",
                    )


class GuardedApp:
    """ASGI wrapper: ``POST /invocations`` is read (up to ``max_bytes``), checked, then replayed to ``app``.

    Every other request goes to ``app`` untouched.

    Parameters
    ----------
    app : callable
        The ASGI app behind the guard (MLflow's scoring app).
    max_bytes : int
        Largest request body, bytes; a larger one is answered with 413 without reading further.
    max_rows : int
        Rows allowed per request.
    """

    def __init__(self, app, max_bytes: int = MAX_REQUEST_BYTES, max_rows: int = MAX_ROWS_PER_REQUEST):
        self.app, self.max_bytes, self.max_rows = app, max_bytes, max_rows

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http" or scope.get("method") != "POST" or scope.get("path") != "/invocations":
            return await self.app(scope, receive, send)
        headers = {key.lower(): value for key, value in scope.get("headers", [])}
        too_big = Rejected(
            413, f"input: request body above {self.max_bytes:,} bytes (at most {self.max_rows:,} rows per request)"
        )
        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            declared = 0
        if declared > self.max_bytes:
            return await self._answer(send, too_big)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return await self._answer(send, too_big)
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        content_type = headers.get(b"content-type")
        try:
            check_request(body, content_type.decode("latin-1") if content_type is not None else None, self.max_rows)
        except Rejected as rejected:
            return await self._answer(send, rejected)

        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _answer(send, rejected: Rejected) -> None:
        body = rejected.body()
        await send(
            {
                "type": "http.response.start",
                "status": rejected.status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
