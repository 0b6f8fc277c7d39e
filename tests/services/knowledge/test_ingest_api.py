"""Ingest through the API: JSON documents and file uploads, and what is refused."""

from __future__ import annotations

import orjson

from tests.services.knowledge.conftest import KB, assert_error
from tests.services.knowledge.pdfs import blank_pdf, make_pdf

RETURNS = {
    "title": "Return policy",
    "text": "Unused items can be returned within 60 days of delivery for a full refund.",
    "source": "policies/returns.md",
    "metadata": {"category": "policy", "owner": "support"},
}


async def test_ingest_json_then_list_and_get(kb: KB) -> None:
    long_text = "\n\n".join(
        f"Paragraph {i}. The Cascade tent has feature number {i} for campers. " * 3
        for i in range(30)
    )
    data = await kb.ingest(
        [RETURNS, {"title": "Tent manual", "text": long_text, "source": "manuals/tent.md"}]
    )
    first, second = data["documents"]
    assert first["document_id"].startswith("doc_")
    assert (first["chunk_count"], first["flagged_chunk_count"]) == (1, 0)
    assert first["embedded"] is True and first["deduplicated"] is False
    assert second["chunk_count"] > 5, "a long document is cut into several chunks"
    assert data["total_chunks"] == 1 + second["chunk_count"]

    page = (await kb.get("/documents", params={"limit": 1})).json()["data"]
    assert page["total"] == 2 and len(page["items"]) == 1
    assert page["items"][0]["title"] == "Tent manual"  # newest first
    rest = (await kb.get("/documents", params={"limit": 1, "offset": 1})).json()["data"]
    assert rest["items"][0]["title"] == "Return policy"

    detail = (await kb.get(f"/documents/{first['document_id']}")).json()["data"]
    assert detail["metadata"] == {"category": "policy", "owner": "support"}
    assert detail["chunk_count"] == 1 and detail["flagged_chunk_count"] == 0
    assert detail["source"] == "policies/returns.md"
    assert detail["flagged_chunks"] == []
    assert detail["created_at"].endswith(("Z", "+00:00"))


async def test_same_document_twice_is_stored_once(kb: KB) -> None:
    first = (await kb.ingest([RETURNS]))["documents"][0]
    again = await kb.ingest([{**RETURNS, "text": RETURNS["text"] + "\n\n"}])
    assert again["documents"][0]["document_id"] == first["document_id"]
    assert again["documents"][0]["deduplicated"] is True
    assert again["total_chunks"] == 0
    assert (await kb.get("/documents")).json()["data"]["total"] == 1
    other = {**RETURNS, "title": "Returns (copy)"}
    twice = (await kb.ingest([other, other]))["documents"]
    assert twice[0]["document_id"] == twice[1]["document_id"]
    assert [d["deduplicated"] for d in twice] == [False, True]
    assert (await kb.get("/documents")).json()["data"]["total"] == 2


async def test_json_limits_are_validated(kb: KB) -> None:
    too_many = [{"title": f"d{i}", "text": "x"} for i in range(101)]
    assert_error(await kb.post("/ingest", json={"documents": too_many}), 422, "validation_error")
    assert_error(await kb.post("/ingest", json={"documents": []}), 422, "validation_error")
    bad_meta = {**RETURNS, "metadata": {"k": 1}}
    assert_error(await kb.post("/ingest", json={"documents": [bad_meta]}), 422, "validation_error")
    blank = {"title": "Blank", "text": " \n\n "}
    assert_error(await kb.post("/ingest", json={"documents": [RETURNS, blank]}), 400, "bad_request")
    assert (await kb.get("/documents")).json()["data"]["total"] == 0, "nothing was stored"


async def test_upload_text_markdown_and_pdf(kb: KB) -> None:
    pdf = make_pdf(["The Ridgeline boot weighs 1.4 kg per pair."], title="Ridgeline spec sheet")
    files = [
        ("files", ("store-hours.txt", b"The Denver store opens at 10 am.", "text/plain")),
        ("files", ("care.md", b"# Down jacket care\n\nWash the jacket cold.", "text/markdown")),
        ("files", ("ridgeline.pdf", pdf, "application/pdf")),
    ]
    meta = orjson.dumps({"category": "uploads"}).decode()
    resp = await kb.post("/ingest/files", files=files, data={"metadata": meta})
    assert resp.status_code == 201, resp.text
    docs = resp.json()["data"]["documents"]
    assert [d["title"] for d in docs] == ["store-hours", "Down jacket care", "Ridgeline spec sheet"]
    assert [d["source"] for d in docs] == ["store-hours.txt", "care.md", "ridgeline.pdf"]

    pdf_doc = (await kb.get(f"/documents/{docs[2]['document_id']}")).json()["data"]
    assert pdf_doc["media_type"] == "application/pdf"
    assert pdf_doc["metadata"] == {"category": "uploads", "filename": "ridgeline.pdf"}

    hits = await kb.search("How much does the Ridgeline boot weigh?", mode="fulltext")
    assert hits[0]["document_id"] == docs[2]["document_id"]
    assert "1.4 kg" in hits[0]["content"]


async def test_upload_with_shared_source(kb: KB) -> None:
    files = [("files", ("a.txt", b"Alpha text.", "text/plain"))]
    resp = await kb.post("/ingest/files", files=files, data={"source": "wiki"})
    assert resp.status_code == 201
    assert resp.json()["data"]["documents"][0]["source"] == "wiki"


async def test_wrong_type_is_415_and_stores_nothing(kb: KB) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    files = [
        ("files", ("ok.txt", b"Fine text.", "text/plain")),
        ("files", ("photo.png", png, "image/png")),
    ]
    body = assert_error(await kb.post("/ingest/files", files=files), 415, "unsupported_media_type")
    assert body["error"]["details"]["filename"] == "photo.png"
    exe = [("files", ("tool.exe", b"MZ....", "application/octet-stream"))]
    assert_error(await kb.post("/ingest/files", files=exe), 415, "unsupported_media_type")
    assert (await kb.get("/documents")).json()["data"]["total"] == 0


async def test_empty_or_undecodable_uploads_are_400(kb: KB) -> None:
    cases = [
        ("empty.txt", b"", "text/plain"),
        ("latin1.txt", "Café crème".encode("latin-1"), "text/plain"),
        ("fake.pdf", b"this is not a pdf", "application/pdf"),
        ("blank.pdf", blank_pdf(), "application/pdf"),
    ]
    for name, content, media_type in cases:
        resp = await kb.post("/ingest/files", files=[("files", (name, content, media_type))])
        assert_error(resp, 400, "bad_request")
    bad_meta = await kb.post(
        "/ingest/files",
        files=[("files", ("a.txt", b"Alpha.", "text/plain"))],
        data={"metadata": "[1, 2]"},
    )
    assert_error(bad_meta, 400, "bad_request")
    assert (await kb.get("/documents")).json()["data"]["total"] == 0


async def test_oversized_upload_is_413(kb: KB) -> None:
    big = b"word " * 400_001  # 2,000,005 characters of text
    resp = await kb.post("/ingest/files", files=[("files", ("big.txt", big, "text/plain"))])
    body = assert_error(resp, 413, "payload_too_large")
    assert body["error"]["details"]["limit_chars"] == 2_000_000
    assert (await kb.get("/documents")).json()["data"]["total"] == 0


async def test_unknown_document_is_404(kb: KB) -> None:
    assert_error(await kb.get("/documents/doc_missing"), 404, "not_found")
    assert_error(await kb.delete("/documents/doc_missing"), 404, "not_found")


async def test_requires_an_api_key(kb: KB) -> None:
    resp = await kb.http.post("/api/v1/knowledge/search", json={"query": "tents"})
    assert_error(resp, 401, "unauthorized")
