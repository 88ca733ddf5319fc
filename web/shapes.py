"""Domain objects as the JSON the API returns."""

from __future__ import annotations

import dataclasses
import enum
import json
from datetime import datetime
from typing import Any

from aiohttp import web

from engine.models import Campaign, DncEntry, Result


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=dumps)


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    """Every setting of a campaign (what an operator edits)."""
    data = dataclasses.asdict(campaign)
    data["term_codes"] = [
        {"code": t.code, "label": t.label, "kind": t.kind.value} for t in campaign.term_codes
    ]
    data["created_at"] = campaign.created_at.isoformat() if campaign.created_at else None
    return data


def result_json(result: Result) -> dict[str, Any]:
    return {
        "id": result.id,
        "attempt_id": result.attempt_id,
        "voter_id": result.voter_id,
        "campaign_id": result.campaign_id,
        "session_id": result.session_id,
        "term_code": result.term_code,
        "answers": result.answers,
        "notes": result.notes,
        "created_at": result.created_at.isoformat(),
        "updated_at": result.updated_at.isoformat(),
        "status": str(result.status),
    }


def dnc_json(entry: DncEntry) -> dict[str, Any]:
    return {
        "phone": entry.phone,
        "campaign_id": entry.campaign_id,
        "reason": entry.reason,
        "created_at": entry.created_at.isoformat(),
        "created_by": entry.created_by,
        "added_by": entry.added_by,
        "added_by_volunteer": entry.added_by_volunteer,
    }
