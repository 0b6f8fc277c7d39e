"""``/api/v1/assistant``: image analysis (multipart upload) and text chat."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile

from ai_platform.core.envelope import APIResponse
from ai_platform.core.errors import (
    GOVERNED_ERRORS,
    BadRequestError,
    BudgetExceededError,
    NotFoundError,
    PayloadTooLargeError,
    RequestValidationFailed,
    UnknownModelError,
    UnsupportedMediaTypeError,
)
from ai_platform.core.ids import ConversationIdStr
from ai_platform.core.text import ModelName, Text, text_problem
from ai_platform.gateway.deps import PlatformDep, SessionDep
from ai_platform.gateway.errors import error_responses
from ai_platform.gateway.governed import governed
from ai_platform.gateway.responses import envelope
from ai_platform.governance.context import RequestContext
from ai_platform.llm.pricing import check_requested_model
from ai_platform.services.agent.conversations import load_conversation
from ai_platform.services.agent.schemas import ChatRequest, ConversationOut, UsageOut
from ai_platform.services.assistant import service
from ai_platform.services.assistant.images import (
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    MAX_IMAGES,
    ImageDecoder,
)
from ai_platform.services.assistant.schemas import AnalyzeResponse, AssistantReply, ImageOut
from ai_platform.services.assistant.service import DEFAULT_PROMPT, KIND, Detail, TurnOutcome

router = APIRouter(prefix="/api/v1/assistant", tags=["Multi-Modal Assistant"])

AssistantCtx = Annotated[RequestContext, Depends(governed("assistant"))]
ConversationId = Annotated[ConversationIdStr, Path(description="a `conv_…` id")]
MAX_FILENAME_CHARS = 255


def _check_model(ctx: RequestContext, model: str | None) -> None:
    """Unknown → 422 ``unknown_model``, as on every service. The assistant answers with
    the configured vision model, so a known model other than that one is refused too
    rather than silently replaced."""
    prices, settings = ctx.governor.prices, ctx.governor.settings
    check_requested_model(prices, settings, model)
    if model is None or model == settings.vision_model:
        return
    resolved = prices.resolve(model)
    if resolved is None or resolved != prices.resolve(settings.vision_model):
        raise RequestValidationFailed(
            f"the assistant answers with its configured vision model "
            f"{settings.vision_model!r}; it cannot switch to {model!r} per request",
            details={"model": model, "vision_model": settings.vision_model},
        )


def _check_filenames(uploads: list[UploadFile]) -> None:
    for index, upload in enumerate(uploads):
        name = upload.filename or ""
        problem = text_problem(name, single_line=True)
        if problem is None and len(name) > MAX_FILENAME_CHARS:
            problem = f"file names may be at most {MAX_FILENAME_CHARS} characters"
        if problem is not None:
            raise RequestValidationFailed(
                f"images[{index}].filename: {problem}",
                details=[
                    {"loc": ["body", "images", index], "msg": problem, "type": "invalid_text"}
                ],
            )


async def get_image_decoder(platform: PlatformDep) -> ImageDecoder:
    return service.image_decoder(platform)


ImageDecoderDep = Annotated[ImageDecoder, Depends(get_image_decoder)]


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
        UnknownModelError,
    ),
)
async def analyze(
    request: Request,
    ctx: AssistantCtx,
    session: SessionDep,
    decoder: ImageDecoderDep,
    images: Annotated[
        list[UploadFile] | None,
        File(
            description=f"1 to {MAX_IMAGES} images: PNG, JPEG, WebP or GIF, each at most "
            f"{MAX_IMAGE_BYTES // (1024 * 1024)} MB and {MAX_IMAGE_PIXELS // 1_000_000} "
            "megapixels (the default of ASSISTANT_MAX_IMAGE_PIXELS)."
        ),
    ] = None,
    prompt: Annotated[Text, Form(min_length=1, max_length=4_000)] = DEFAULT_PROMPT,
    conversation_id: Annotated[ConversationIdStr | None, Form()] = None,
    detail: Annotated[Detail, Form(description="Image detail requested from the model.")] = "auto",
    model: Annotated[
        ModelName | None,
        Form(description="The configured vision model (or omit); unknown → `unknown_model`."),
    ] = None,
) -> APIResponse[AnalyzeResponse]:
    """Multipart upload: ``images`` (repeat the field for several) and ``prompt``.

    Each image is checked from its header before any pixel is decoded: wrong type 415,
    over the size or pixel limit 413, undecodable 400. Decoding is bounded per process
    (slots and a budget of pixels in flight); an image that waits too long for room is
    503 ``server_busy`` with ``Retry-After``. Accepted images are re-encoded without
    metadata and downscaled to at most 2048 px on the longest side. A text field or
    file name holding NUL or control characters is a 422, before anything is read.
    """
    _check_model(ctx, model)
    _check_filenames(images or [])
    outcome = await service.analyze(
        session,
        ctx,
        uploads=images or [],
        prompt=prompt,
        conversation_id=conversation_id,
        decoder=decoder,
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
        *GOVERNED_ERRORS,
        NotFoundError,
        BudgetExceededError,
        RequestValidationFailed,
        UnknownModelError,
    ),
)
async def chat(
    body: ChatRequest, request: Request, ctx: AssistantCtx, session: SessionDep
) -> APIResponse[AssistantReply]:
    """Text only, no tools. Continue an image conversation by passing its
    ``conversation_id``: the model sees the earlier prompts and answers."""
    _check_model(ctx, body.model)
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
    conversation_id: ConversationId, request: Request, ctx: AssistantCtx, session: SessionDep
) -> APIResponse[ConversationOut]:
    return envelope(
        request, await load_conversation(session, ctx.client_id, conversation_id, KIND)
    )
