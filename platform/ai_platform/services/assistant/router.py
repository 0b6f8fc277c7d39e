"""``/api/v1/assistant``: image analysis (multipart upload) and text chat."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile

from ai_platform.core.envelope import APIResponse
from ai_platform.core.errors import (
    GOVERNED_ERRORS,
    BadRequestError,
    BudgetExceededError,
    NotFoundError,
    PayloadTooLargeError,
    RequestValidationFailed,
    UnsupportedMediaTypeError,
)
from ai_platform.gateway.deps import SessionDep
from ai_platform.gateway.errors import error_responses
from ai_platform.gateway.governed import governed
from ai_platform.gateway.responses import envelope
from ai_platform.governance.context import RequestContext
from ai_platform.services.agent.conversations import load_conversation
from ai_platform.services.agent.schemas import ChatRequest, ConversationOut, UsageOut
from ai_platform.services.assistant import service
from ai_platform.services.assistant.images import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, MAX_IMAGES
from ai_platform.services.assistant.schemas import AnalyzeResponse, AssistantReply, ImageOut
from ai_platform.services.assistant.service import DEFAULT_PROMPT, KIND, Detail, TurnOutcome

router = APIRouter(prefix="/api/v1/assistant", tags=["Multi-Modal Assistant"])

AssistantCtx = Annotated[RequestContext, Depends(governed("assistant"))]


def _usage(outcome: TurnOutcome) -> UsageOut:
    usage = outcome.result.usage
    return UsageOut(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
    )


@router.post(
    "/analyze",
    response_model=APIResponse[AnalyzeResponse],
    summary="Ask about one or more images",
    responses=error_responses(
        *GOVERNED_ERRORS,
        BadRequestError,
        NotFoundError,
        PayloadTooLargeError,
        UnsupportedMediaTypeError,
        BudgetExceededError,
        RequestValidationFailed,
    ),
)
async def analyze(
    request: Request,
    ctx: AssistantCtx,
    session: SessionDep,
    images: Annotated[
        list[UploadFile] | None,
        File(
            description=f"1 to {MAX_IMAGES} images: PNG, JPEG, WebP or GIF, each at most "
            f"{MAX_IMAGE_BYTES // (1024 * 1024)} MB and {MAX_IMAGE_PIXELS // 1_000_000} "
            "megapixels."
        ),
    ] = None,
    prompt: Annotated[str, Form(min_length=1, max_length=4_000)] = DEFAULT_PROMPT,
    conversation_id: Annotated[str | None, Form(min_length=1, max_length=40)] = None,
    detail: Annotated[Detail, Form(description="Image detail requested from the model.")] = "auto",
) -> APIResponse[AnalyzeResponse]:
    """Multipart upload: ``images`` (repeat the field for several) and ``prompt``.

    Each image is decoded and checked before anything is sent: wrong type 415,
    over the size or pixel limit 413, undecodable 400. Accepted images are re-encoded
    without metadata and downscaled to at most 2048 px on the longest side.
    """
    outcome = await service.analyze(
        session,
        ctx,
        uploads=images or [],
        prompt=prompt,
        conversation_id=conversation_id,
        detail=detail,
    )
    return envelope(
        request,
        AnalyzeResponse(
            conversation_id=outcome.plan.conversation_id,
            answer=outcome.result.content or "",
            images=[ImageOut.model_validate(img.describe()) for img in outcome.images],
            model=outcome.result.model,
            usage=_usage(outcome),
            cost_usd=round(outcome.result.cost_usd, 10),
        ),
    )


@router.post(
    "/chat",
    response_model=APIResponse[AssistantReply],
    summary="A text turn with the assistant",
    responses=error_responses(
        *GOVERNED_ERRORS, NotFoundError, BudgetExceededError, RequestValidationFailed
    ),
)
async def chat(
    body: ChatRequest, request: Request, ctx: AssistantCtx, session: SessionDep
) -> APIResponse[AssistantReply]:
    """Text only, no tools. Continue an image conversation by passing its
    ``conversation_id``: the model sees the earlier prompts and answers."""
    outcome = await service.chat(
        session, ctx, conversation_id=body.conversation_id, inputs=body.input_messages()
    )
    return envelope(
        request,
        AssistantReply(
            conversation_id=outcome.plan.conversation_id,
            reply=outcome.result.content or "",
            model=outcome.result.model,
            usage=_usage(outcome),
            cost_usd=round(outcome.result.cost_usd, 10),
        ),
    )


@router.get(
    "/conversations/{conversation_id}",
    response_model=APIResponse[ConversationOut],
    summary="An assistant conversation's history (images described, not stored)",
    responses=error_responses(*GOVERNED_ERRORS, NotFoundError),
)
async def get_conversation(
    conversation_id: str, request: Request, ctx: AssistantCtx, session: SessionDep
) -> APIResponse[ConversationOut]:
    return envelope(
        request, await load_conversation(session, ctx.client_id, conversation_id, KIND)
    )
