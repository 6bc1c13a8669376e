"""The Files API for voice files, OpenAI-style, spoken on every dialect's paths."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.exceptions import ClientException

from router.accounts.auth import Principal
from router.errors import InvalidRequestError
from router.http.services import services
from storage.models import VoiceFile

PURPOSE = "voice"
FILES_PATH = "/files"


def file_object(voice: VoiceFile) -> dict[str, Any]:
    """A voice file as OpenAI's file object, plus its length and sample rate."""
    return {
        "id": voice.id,
        "object": "file",
        "bytes": voice.bytes,
        "created_at": int(voice.created_at.timestamp()),
        "filename": voice.filename,
        "purpose": PURPOSE,
        "status": "processed",
        "duration_seconds": voice.duration_seconds,
        "sample_rate": voice.sample_rate,
    }


async def upload(request: Request[Any, Any, Any], principal: Principal) -> Response[Any]:
    """POST /files (multipart `file`, `purpose=voice`): keep a reference recording."""
    try:
        form = await request.form()
    except ClientException as exc:
        if exc.status_code == 413:
            raise
        raise InvalidRequestError(
            "The body must be multipart/form-data with a `file` and `purpose`."
        ) from None
    except UnicodeDecodeError:
        # A part without a filename is read as text, which binary audio is not.
        raise InvalidRequestError(
            "A form field is not UTF-8 text: send the recording as a file part, with a filename.",
            param="file",
        ) from None
    purpose = form.get("purpose")
    if purpose != PURPOSE:
        msg = f"Invalid 'purpose': expected '{PURPOSE}', got {_shown(purpose)}."
        raise InvalidRequestError(msg, param="purpose")
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidRequestError(
            "Missing 'file': upload the recording as a file part.", param="file"
        )
    data = await upload.read()
    voice = await services(request).voices.add(principal.tenant_id, upload.filename, data)
    return Response(file_object(voice), status_code=200)


async def list_files(request: Request[Any, Any, Any], principal: Principal) -> Response[Any]:
    """GET /files: the tenant's voice files, newest first."""
    voices = await services(request).voices.list(principal.tenant_id)
    data = [file_object(voice) for voice in voices]
    return Response({"object": "list", "data": data, "has_more": False})


async def retrieve(request: Request[Any, Any, Any], principal: Principal) -> Response[Any]:
    """GET /files/{file_id}."""
    voice = await services(request).voices.get(principal.tenant_id, _file_id(request))
    return Response(file_object(voice))


async def content(request: Request[Any, Any, Any], principal: Principal) -> Response[Any]:
    """GET /files/{file_id}/content: the normalized WAV."""
    library = services(request).voices
    voice = await library.get(principal.tenant_id, _file_id(request))
    return Response(await library.audio(voice), media_type="audio/wav")


async def delete(request: Request[Any, Any, Any], principal: Principal) -> Response[Any]:
    """DELETE /files/{file_id}: the file and its audio are gone."""
    file_id = _file_id(request)
    await services(request).voices.delete(principal.tenant_id, file_id)
    return Response({"id": file_id, "object": "file", "deleted": True})


def _file_id(request: Request[Any, Any, Any]) -> str:
    return str(request.path_params["file_id"])


def _shown(value: object) -> str:
    return "nothing" if value is None else repr(str(value)[:40])
