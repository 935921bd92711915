"""Twilio Programmable Voice: call status, recording and transcription callbacks → CallRecord.

Each callback is one update of a call (``CallSid``), kept as a
:class:`~omnicx.models.CallRecord`:

* the incoming-call webhook and call status callbacks (``CallStatus``,
  ``Direction``, ``CallDuration``, ``Timestamp``, ``SequenceNumber``, and
  ``RecordingUrl`` / ``RecordingSid`` / ``RecordingDuration`` when the call was
  recorded);
* recording status callbacks (``RecordingSid``, ``RecordingStatus``,
  ``RecordingUrl``, ``RecordingDuration``), which name no caller: the adapter
  reads ``From`` / ``To`` / ``Direction`` that the host appended to the
  recording callback URL, else skips them as unsupported;
* transcription callbacks (``TranscriptionSid``, ``TranscriptionStatus``,
  ``TranscriptionText``, ``RecordingSid``) with the call's standard parameters.

Parameters from https://www.twilio.com/docs/usage/webhooks/voice-webhooks and
the ``<Record>`` reference. See docs/channels/twilio-voice.md.
"""

from __future__ import annotations

from typing import ClassVar

from omnicx.channels._base import AdapterConfig, Capability, ChannelAdapter
from omnicx.channels._twilio_form import TwilioParams, read_params
from omnicx.channels._twilio_signature import TwilioSigningConfig, verify_twilio_request
from omnicx.errors import PayloadError, UnsupportedEvent, ValidationError
from omnicx.models import (
    Assurance,
    Author,
    AuthorRole,
    CallRecord,
    CallStatus,
    Channel,
    Direction,
    Identifier,
    InboundEvent,
    InboundRequest,
    ObservedIdentifier,
    RecordingRef,
    interaction_id,
)

__all__ = ["CALL_STATUS_MAP", "TwilioVoiceAdapter", "TwilioVoiceConfig"]

CALL_STATUS_MAP: dict[str, CallStatus] = {
    "queued": CallStatus.QUEUED,
    "initiated": CallStatus.QUEUED,
    "ringing": CallStatus.RINGING,
    "in-progress": CallStatus.IN_PROGRESS,
    "completed": CallStatus.COMPLETED,
    "busy": CallStatus.BUSY,
    "no-answer": CallStatus.NO_ANSWER,
    "failed": CallStatus.FAILED,
    "canceled": CallStatus.CANCELED,
}
"""Twilio ``CallStatus`` → omnicx :class:`~omnicx.models.CallStatus`."""

_DIRECTIONS = {
    "inbound": Direction.INBOUND,
    "outbound-api": Direction.OUTBOUND,
    "outbound-dial": Direction.OUTBOUND,
}


class TwilioVoiceConfig(TwilioSigningConfig):
    """Settings of the Twilio Voice adapter: ``auth_token`` (and ``shared_keys``) that sign its webhooks."""


class TwilioVoiceAdapter(ChannelAdapter[TwilioVoiceConfig]):
    """Twilio Programmable Voice callbacks as call records."""

    name: ClassVar[str] = "twilio_voice"
    display_name: ClassVar[str] = "Twilio Voice"
    api_version: ClassVar[str] = "2010-04-01"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.INBOUND, Capability.SIGNATURES, Capability.CALLS}
    )
    Config: ClassVar[type[AdapterConfig]] = TwilioVoiceConfig

    def verify(self, request: InboundRequest) -> None:
        """Check ``X-Twilio-Signature``; return ``None`` or raise :class:`~omnicx.errors.SignatureError`."""
        verify_twilio_request(request, self.config, channel=self.name)

    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        """Return the one :class:`~omnicx.models.CallRecord` update a voice callback carries.

        The customer is ``From`` on an inbound call and ``To`` on an outbound
        one (``outbound-api``, ``outbound-dial``). Raises
        :class:`~omnicx.errors.PayloadError` for a malformed callback and
        :class:`~omnicx.errors.UnsupportedEvent` for a callback whose customer
        side is not a phone number (``client:``, ``sip:``) or that names no
        caller at all (a bare recording status callback).
        """
        params = read_params(request, self.checked_body(request), channel=self.name)
        try:
            return [self._record(params, request)]
        except ValidationError as exc:  # a model refused a value (too long, out of range)
            raise PayloadError(
                f"the Twilio voice callback holds a value omnicx cannot store: {exc}"[:500],
                channel=self.name,
            ) from exc

    def _record(self, params: TwilioParams, request: InboundRequest) -> InboundEvent:
        call_sid = params.require("CallSid", "voice callback")
        raw_direction = params.get("Direction")
        if raw_direction is None and "From" not in params and "To" not in params:
            raise UnsupportedEvent(
                "this voice callback names no caller (a recording status callback carries only "
                "CallSid and Recording* parameters); append From, To and Direction to the "
                "recordingStatusCallback URL, or read recordings from the call status callback",
                channel=self.name,
            )
        direction = _DIRECTIONS.get(raw_direction or "inbound")
        if direction is None:
            raise UnsupportedEvent(
                f"Direction {(raw_direction or '')[:40]!r} is not a call direction omnicx knows "
                f"({', '.join(sorted(_DIRECTIONS))})",
                channel=self.name,
            )
        customer_param = "From" if direction is Direction.INBOUND else "To"
        customer = self._customer(params, customer_param)

        kind, key, status = self._kind(params, call_sid)
        recordings: tuple[RecordingRef, ...] = ()
        recording_sid, recording_url = params.get("RecordingSid"), params.get("RecordingUrl")
        if recording_sid is not None or recording_url is not None:
            recordings = (
                RecordingRef(
                    url=recording_url,
                    platform_id=recording_sid,
                    duration_seconds=params.integer("RecordingDuration"),
                ),
            )
        transcript = None
        if kind == "transcription" and params.get("TranscriptionStatus") == "completed":
            transcript = params.get("TranscriptionText") or ""
        metadata: dict[str, str] = {"twilio_direction": raw_direction or "inbound"}
        for meta_key, param in (
            ("account_sid", "AccountSid"),
            ("parent_call_sid", "ParentCallSid"),
            ("recording_status", "RecordingStatus"),
            ("transcription_status", "TranscriptionStatus"),
            ("forwarded_from", "ForwardedFrom"),
            ("stir_verstat", "StirVerstat"),
        ):
            value = params.get(param)
            if value is not None:
                metadata[meta_key] = value[:256]
        occurred_at = params.timestamp("Timestamp") or request.received_at
        duration = params.integer("CallDuration")
        record = CallRecord(
            id=interaction_id(self.name, key),
            channel=Channel.VOICE,
            adapter=self.name,
            dedupe_key=key,
            occurred_at=occurred_at,
            received_at=request.received_at,
            direction=direction,
            author=Author(
                role=AuthorRole.CUSTOMER if direction is Direction.INBOUND else AuthorRole.AGENT,
                id=customer.value if direction is Direction.INBOUND else None,
                name=params.get("CallerName") if direction is Direction.INBOUND else None,
            ),
            endpoint=customer,
            call_id=call_sid,
            status=status,
            duration_seconds=duration,
            recordings=recordings,
            transcript=transcript,
            metadata=metadata,
        )
        return InboundEvent(
            interaction=record,
            identifiers=(
                ObservedIdentifier(
                    identifier=customer,
                    assurance=self._assurance(params, direction),
                    display_name=params.get("CallerName") if direction is Direction.INBOUND else None,
                ),
            ),
            raw_type=kind,
        )

    def _kind(self, params: TwilioParams, call_sid: str) -> tuple[str, str, CallStatus]:
        """The callback's kind, its dedupe key and the call status it reports."""
        raw_status = params.get("CallStatus")
        if raw_status is not None and raw_status not in CALL_STATUS_MAP:
            raise UnsupportedEvent(
                f"CallStatus {raw_status[:40]!r} is not one omnicx knows "
                f"({', '.join(sorted(CALL_STATUS_MAP))})",
                channel=self.name,
            )
        # A recording or transcription exists only for an answered call: without a
        # CallStatus the call was at least in progress (the lowest status that is true).
        status = CALL_STATUS_MAP[raw_status] if raw_status is not None else CallStatus.IN_PROGRESS
        if "TranscriptionStatus" in params or "TranscriptionText" in params:
            ref = params.get("TranscriptionSid") or params.require("RecordingSid", "transcription callback")
            return "transcription", f"{call_sid}:transcription:{ref}", status
        if "RecordingStatus" in params:
            recording = params.require("RecordingSid", "recording status callback")
            recording_status = params.require("RecordingStatus", "recording status callback")
            return "recording", f"{call_sid}:recording:{recording}:{recording_status}", status
        if raw_status is None:
            raise PayloadError(
                "the Twilio voice callback has no CallStatus, RecordingStatus or TranscriptionStatus: "
                "it is not a call, recording or transcription callback",
                channel=self.name,
            )
        sequence = params.integer("SequenceNumber")
        key = f"{call_sid}:status:{raw_status}"
        if sequence is not None:
            key += f":{sequence}"
        return "call_status", key, status

    def _customer(self, params: TwilioParams, name: str) -> Identifier:
        raw = params.require(name, "voice callback")
        scheme, colon, _ = raw.partition(":")
        if colon and scheme.isalpha():
            raise UnsupportedEvent(
                f"the customer side of this call is {raw[:60]!r}, not a phone number "
                "(a Voice SDK client or SIP leg); omnicx records calls with customers' phones",
                channel=self.name,
            )
        return Identifier(kind="phone", value=params.phone(name, raw))

    @staticmethod
    def _assurance(params: TwilioParams, direction: Direction) -> Assurance:
        """Inbound caller ID is verified unless SHAKEN/STIR says it failed; a dialled number is asserted."""
        if direction is not Direction.INBOUND:
            return Assurance.ASSERTED
        verstat = params.get("StirVerstat") or ""
        return Assurance.ASSERTED if "Failed" in verstat else Assurance.VERIFIED
