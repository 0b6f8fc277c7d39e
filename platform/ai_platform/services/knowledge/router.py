"""``/api/v1/knowledge``: ingest (JSON or file uploads), search, answer, documents."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile, status

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
from ai_platform.core.ids import DocumentIdStr
from ai_platform.core.numbers import MAX_OFFSET
from ai_platform.core.text import Line, clean_title, strip_file_text, text_problem
from ai_platform.gateway.deps import SessionDep
from ai_platform.gateway.errors import error_responses
from ai_platform.gateway.governed import governed
from ai_platform.gateway.responses import envelope
from ai_platform.governance.context import RequestContext
from ai_platform.llm.pricing import check_requested_model
from ai_platform.services.knowledge import service
from ai_platform.services.knowledge.config import (
    MAX_FILE_BYTES,
    MAX_FILES_PER_REQUEST,
    MAX_SOURCE_CHARS,
    MAX_TITLE_CHARS,
)
from ai_platform.services.knowledge.extract import extract
from ai_platform.services.knowledge.schemas import (
    AnswerRequest,
    AnswerResponse,
    DeletedDocument,
    DocumentDetail,
    DocumentPage,
    IngestedDocument,
    IngestRequest,
    IngestResponse,
    Metadata,
    SearchHit,
    SearchRequest,
    check_metadata,
)

router = APIRouter(prefix="/api/v1/knowledge", tags=["Knowledge Base"])

KnowledgeCtx = Annotated[RequestContext, Depends(governed("knowledge"))]
DocumentId = Annotated[DocumentIdStr, Path(description="a `doc_…` id from ingest")]
LLM_ERRORS = (*GOVERNED_ERRORS, BadRequestError, BudgetExceededError)
MAX_FILENAME_CHARS = 255


def _ingest_response(documents: list[IngestedDocument]) -> IngestResponse:
    return IngestResponse(
        documents=documents,
        total_chunks=sum(d.chunk_count for d in documents if not d.deduplicated),
    )


@router.post(
    "/ingest",
    status_code=status.HTTP_201_CREATED,
    summary="Ingest JSON documents",
    responses=error_responses(*LLM_ERRORS),
)
async def ingest(
    body: IngestRequest, request: Request, ctx: KnowledgeCtx, session: SessionDep
) -> APIResponse[IngestResponse]:
    """Chunk (≤1,000 characters, ~200 overlap, on paragraph/sentence boundaries), screen
    each chunk for indirect prompt injection, embed, and index for the caller's tenant.
    Up to 100 documents of up to 2,000,000 characters each."""
    documents = [
        service.NewDocument(
            title=d.title,
            text=d.text,
            source=d.source,
            metadata=d.metadata,
            media_type="text/plain",
        )
        for d in body.documents
    ]
    ingested = await service.ingest_documents(ctx, session, documents)
    return envelope(request, _ingest_response(ingested))


def _form_metadata(raw: str | None) -> Metadata:
    if raw is None or not raw.strip():
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequestError("metadata must be a JSON object of strings") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise BadRequestError("metadata must be a JSON object of strings")
    for key, item in value.items():
        problem = text_problem(key, single_line=True) or text_problem(item)
        if problem is not None:
            raise _invalid_field("metadata", problem)
    try:
        return check_metadata(value) or {}
    except ValueError as exc:
        raise BadRequestError(str(exc)) from None


def _invalid_field(field: str, problem: str) -> RequestValidationFailed:
    """The 422 a pydantic field would give, for multipart parts checked by hand."""
    return RequestValidationFailed(
        f"{field}: {problem}",
        details=[{"loc": ["body", field], "msg": problem, "type": "invalid_text"}],
    )


def _filename(upload: UploadFile, index: int) -> str:
    """An upload's file name, refused (422) when it holds controls or is overlong: it
    becomes the document's source, its title and a metadata value."""
    name = upload.filename or "upload"
    problem = text_problem(name, single_line=True)
    if problem is None and len(name) > MAX_FILENAME_CHARS:
        problem = f"file names may be at most {MAX_FILENAME_CHARS} characters"
    if problem is not None:
        raise _invalid_field(f"files[{index}].filename", problem)
    return name


@router.post(
    "/ingest/files",
    status_code=status.HTTP_201_CREATED,
    summary="Ingest uploaded files (text, Markdown, PDF)",
    responses=error_responses(*LLM_ERRORS, UnsupportedMediaTypeError, PayloadTooLargeError),
)
async def ingest_files(
    request: Request,
    ctx: KnowledgeCtx,
    session: SessionDep,
    files: Annotated[list[UploadFile], File(description="`.txt`, `.md` or `.pdf` files, up to 20")],
    source: Annotated[
        Line | None,
        Form(max_length=MAX_SOURCE_CHARS, description="source for every file (default: name)"),
    ] = None,
    metadata: Annotated[
        str | None, Form(description='JSON object of strings, e.g. {"category": "policy"}')
    ] = None,
) -> APIResponse[IngestResponse]:
    """Multipart upload. Wrong type → 415; empty, undecodable or text-less → 400; a file
    over 8 MiB or over 2,000,000 characters of text → 413; a file name or form field
    holding NUL or control characters → 422. All files are checked before anything is
    stored. What a file brings is cleaned, not refused: NUL and stray control
    characters are dropped from its text, and its title (a PDF's `/Title`, a Markdown
    heading) becomes one line of at most 300 characters."""
    if len(files) > MAX_FILES_PER_REQUEST:
        raise BadRequestError(f"at most {MAX_FILES_PER_REQUEST} files per request")
    meta = _form_metadata(metadata)
    names = [_filename(upload, index) for index, upload in enumerate(files)]
    documents: list[service.NewDocument] = []
    for upload, name in zip(files, names, strict=True):
        if upload.size is not None and upload.size > MAX_FILE_BYTES:
            raise PayloadTooLargeError(
                f"{name!r} is larger than {MAX_FILE_BYTES} bytes",
                details={"filename": name, "limit_bytes": MAX_FILE_BYTES},
            )
        data = await upload.read(MAX_FILE_BYTES + 1)
        extracted = await extract(name, upload.content_type, data)
        text = strip_file_text(extracted.text)
        if not text.strip():
            raise BadRequestError(f"{name!r} has no extractable text", details={"filename": name})
        title = clean_title(extracted.title, MAX_TITLE_CHARS)
        documents.append(
            service.NewDocument(
                title=title or clean_title(PurePosixPath(name).stem, MAX_TITLE_CHARS) or name,
                text=text,
                source=source or name,
                metadata={**meta, "filename": name} if "filename" not in meta else meta,
                media_type=extracted.media_type,
            )
        )
    ingested = await service.ingest_documents(ctx, session, documents)
    return envelope(request, _ingest_response(ingested))


@router.post("/search", summary="Search the knowledge base", responses=error_responses(*LLM_ERRORS))
async def search(
    body: SearchRequest, request: Request, ctx: KnowledgeCtx, session: SessionDep
) -> APIResponse[list[SearchHit]]:
    """Full text (SQLite FTS5 bm25 / PostgreSQL ts_rank over an OR of the query's
    words), optionally fused with vector similarity by Reciprocal Rank Fusion (k=60).
    Scores are in [0, 1]; `filters` must all match the document's metadata."""
    await ctx.screen(body.query)
    hits = await service.search(
        ctx,
        session,
        body.query,
        max_results=body.max_results,
        filters=body.filters,
        mode=body.mode,
        include_flagged=body.include_flagged,
    )
    return envelope(request, hits)


@router.post(
    "/answer",
    summary="Answer from the knowledge base, with citations",
    responses=error_responses(*LLM_ERRORS, UnknownModelError),
)
async def answer(
    body: AnswerRequest, request: Request, ctx: KnowledgeCtx, session: SessionDep
) -> APIResponse[AnswerResponse]:
    """Retrieve the best passages (never flagged ones), ask the model to answer from
    them citing `[n]`, and return the answer with the passages it cited."""
    check_requested_model(ctx.governor.prices, ctx.governor.settings, body.model)
    await ctx.screen(body.question)
    result = await service.answer(
        ctx,
        session,
        body.question,
        max_passages=body.max_passages,
        filters=body.filters,
        mode=body.mode,
        model=body.model,
    )
    return envelope(request, result)


@router.get(
    "/documents", summary="List the tenant's documents", responses=error_responses(*GOVERNED_ERRORS)
)
async def list_documents(
    request: Request,
    ctx: KnowledgeCtx,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> APIResponse[DocumentPage]:
    """Newest first."""
    return envelope(request, await service.list_documents(ctx, session, limit=limit, offset=offset))


@router.get(
    "/documents/{document_id}",
    summary="One document: metadata, chunk counts, flagged chunks",
    responses=error_responses(*GOVERNED_ERRORS, NotFoundError),
)
async def get_document(
    document_id: DocumentId, request: Request, ctx: KnowledgeCtx, session: SessionDep
) -> APIResponse[DocumentDetail]:
    return envelope(request, await service.get_document(ctx, session, document_id))


@router.delete(
    "/documents/{document_id}",
    summary="Delete a document, its chunks and their index entries",
    responses=error_responses(*GOVERNED_ERRORS, NotFoundError),
)
async def delete_document(
    document_id: DocumentId, request: Request, ctx: KnowledgeCtx, session: SessionDep
) -> APIResponse[DeletedDocument]:
    deleted = await service.delete_document(ctx, session, document_id)
    return envelope(request, DeletedDocument(document_id=document_id, deleted_chunks=deleted))
