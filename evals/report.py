"""The files of a run: summary.json, cases.jsonl, charts, report.md, report.html.

``report.html`` is self-contained (charts inlined as data URLs), so it can be mailed
or attached to a CI run on its own; ``report.md`` links the PNGs beside it.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ai_platform.harness.tables import markdown_table
from evals.charts import draw_all
from evals.compare import Delta
from evals.failures import anchor, failing, split_case
from evals.results import CaseResult

Row = list[str]


def _num(value: Any, places: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and value != value:  # NaN
        return "–"
    return f"{value:,.{places}f}"


def _usd(value: Any, places: int = 4) -> str:
    if value is None:
        return "–"
    return f"${value:,.{places}f}"


def summary_rows(summary: dict[str, Any]) -> tuple[Row, list[Row]]:
    head = [
        "suite", "service", "cases", "requests", "errors", "p50 ms", "p95 ms", "p99 ms",
        "server p50 ms", "tokens in", "tokens out", "cost / request", "cost / 1k requests",
    ]  # fmt: skip
    rows = []
    for name, s in summary["suites"].items():
        lat = s.get("latency_ms") or {}
        srv = s.get("server_latency_ms") or {}
        rows.append(
            [
                name,
                s["service"],
                str(s["cases"]),
                str(s["requests"]),
                str(s["errors"]),
                _num(lat.get("p50")),
                _num(lat.get("p95")),
                _num(lat.get("p99")),
                _num(srv.get("p50")),
                _num(s.get("tokens_in_mean"), 0),
                _num(s.get("tokens_out_mean"), 0),
                _usd(s.get("cost_per_request_usd"), 8),
                _usd(s.get("cost_per_1k_requests_usd")),
            ]
        )
    return head, rows


def quality_rows(summary: dict[str, Any]) -> tuple[Row, list[Row]]:
    rows = []
    for name, s in summary["suites"].items():
        labels = s.get("quality_labels") or {}
        for metric, value in (s.get("quality") or {}).items():
            generic = metric.split("@")[0] + "@k" if "@" in metric and metric != "hit@1" else metric
            rows.append([name, metric, f"{value:.3f}", labels.get(metric, labels.get(generic, ""))])
    return ["suite", "metric", "value", "what it measures"], rows


def _fmt_delta(d: Delta) -> tuple[str, str, str, str]:
    places = 3 if d.kind == "quality" or d.kind == "errors" else 1
    if d.kind == "cost":
        base, cur = _usd(d.baseline, 6), _usd(d.current, 6)
        change = "–" if d.delta is None else f"{d.delta:+.6f}"
    else:
        base, cur = _num(d.baseline, places), _num(d.current, places)
        change = "–" if d.delta is None else f"{d.delta:+,.{places}f}"
    pct = "–" if d.delta_pct is None else f"{d.delta_pct:+.1f}%"
    return base, cur, change, pct


def comparison_rows(deltas: list[Delta]) -> tuple[Row, list[tuple[Row, str]]]:
    rows = []
    for d in deltas:
        base, cur, change, pct = _fmt_delta(d)
        flag = "REGRESSION" if d.regression else ("better" if d.improvement else "")
        state = "regression" if d.regression else ("improvement" if d.improvement else "")
        rows.append(([d.suite, d.metric, base, cur, change, pct, flag], state))
    return ["suite", "metric", "baseline", "this run", "delta", "delta %", ""], rows


def price_rows(summary: dict[str, Any]) -> tuple[Row, list[Row]]:
    rows = [
        [
            model,
            str(p.get("priced_as")),
            _num(p.get("input_per_1m"), 3),
            _num(p.get("output_per_1m"), 3),
            "yes" if p.get("known") else "no (fallback price)",
        ]
        for model, p in (summary.get("cost_basis", {}).get("prices") or {}).items()
    ]
    return ["model reported", "priced as", "input $/1M", "output $/1M", "in price table"], rows


# -- markdown ----------------------------------------------------------------------------


def _md_table(head: Row, rows: list[Row]) -> str:
    return markdown_table(head, rows).rstrip("\n")


def _intro(summary: dict[str, Any]) -> list[str]:
    platform = summary["platform"]
    basis = summary["cost_basis"]
    options = summary["options"]
    return [
        f"Run `{summary['run_id']}` — {summary['started_at']}, {summary['duration_s']:.1f} s.",
        f"Platform: {platform['mode']} ({platform['base_url']}); provider "
        f"`{platform.get('provider') or 'not stated'}`; chat model "
        f"`{platform.get('default_model') or '?'}`, "
        f"vision `{platform.get('vision_model') or '?'}`, "
        f"embeddings `{platform.get('embedding_model') or '?'}`.",
        f"Options: suites {', '.join(options['suites'])}; concurrency {options['concurrency']}; "
        f"repetitions {options['repetitions']}; model override "
        f"`{options.get('model') or 'none'}`; knowledge k = {options['max_results']}.",
        f"Costs: **{basis['label']}** — {basis['note']}",
    ]


def markdown(
    summary: dict[str, Any],
    deltas: list[Delta] | None,
    charts: list[tuple[str, str]],
    results: list[CaseResult] | None = None,
) -> str:
    parts = ["# Eval report", "", *(f"{line}  " for line in _intro(summary)), ""]
    parts += ["## Cost and latency per suite", "", _md_table(*summary_rows(summary)), ""]
    parts += [
        "Latency is client side (request sent to answer read) over the cases that ran to a "
        "verdict; server p50 is `X-Processing-Time-Ms` (research: the job's run time).",
        "",
        "## Quality",
        "",
        _md_table(*quality_rows(summary)),
        "",
    ]
    parts += _md_failures(summary, results or [])
    parts += _md_comparison(summary, deltas)
    head, rows = price_rows(summary)
    if rows:
        parts += ["## Prices used", "", _md_table(head, rows), ""]
    parts += ["## Charts", ""]
    parts += [f"![{title}]({name})\n" for name, title in charts]
    parts += _md_failure_details(results or [])
    return "\n".join(parts) + "\n"


def _md_comparison(summary: dict[str, Any], deltas: list[Delta] | None) -> list[str]:
    block = summary.get("comparison")
    if deltas is None or block is None:
        return ["## Comparison", "", "No earlier run to compare with.", ""]
    regressions = [d for d in deltas if d.regression]
    head, rows = comparison_rows(deltas)
    cells = [
        [*row[:-1], f"**{row[-1]}**" if state == "regression" else row[-1]] for row, state in rows
    ]
    verdict = (
        f"**{len(regressions)} regression(s)**: "
        + ", ".join(f"{d.suite} {d.metric}" for d in regressions)
        if regressions
        else "No regressions"
    )
    return [
        "## Comparison with the baseline",
        "",
        f"Baseline: `{block['baseline']}` (run `{block['baseline_run_id']}`). {verdict}. "
        "Flagged: latency up > 20 %, cost up > 10 %, quality down > 0.02, "
        "error rate up > 0.02.",
        "",
        _md_table(head, cells),
        "",
    ]


# -- failing cases -----------------------------------------------------------------------

# Details for at most this many failed cases per suite; the rest are in cases.jsonl.
MAX_DETAILED = 50

FAILING_NOTE = (
    "A case fails when it gets no verdict (an error, a timeout) or misses a check (a "
    "quality score below 1; screening: a verdict that disagrees with the label). "
    "Every case, passed or not, is in `cases.jsonl`."
)


def _by_suite(
    summary: dict[str, Any], results: list[CaseResult]
) -> list[tuple[str, int, list[tuple[CaseResult, list[str]]]]]:
    """(suite, cases run, its failed cases) for every suite of the run."""
    out = []
    for name in summary["suites"]:
        mine = [r for r in results if r.suite == name]
        out.append((name, len(mine), failing(mine)))
    return out


def _shown(failed: list[tuple[CaseResult, list[str]]]) -> list[tuple[CaseResult, list[str]]]:
    return failed[:MAX_DETAILED]


def _case_label(result: CaseResult) -> str:
    return f"{result.case_id} (repetition {result.repetition + 1})"


def _md_failures(summary: dict[str, Any], results: list[CaseResult]) -> list[str]:
    parts = ["## Failing cases", "", FAILING_NOTE, ""]
    for name, total, failed in _by_suite(summary, results):
        parts += [f"### {name}: {len(failed)} of {total} failed", ""]
        if not failed:
            parts += ["Every case passed every check.", ""]
            continue
        for result, why in _shown(failed):
            ids = ", ".join(f"`{i}`" for i in result.request_ids) or "none"
            parts.append(
                f"- [{_case_label(result)}](#{anchor(result)}): {'; '.join(why)} (request id {ids})"
            )
        if len(failed) > MAX_DETAILED:
            parts.append(f"- … and {len(failed) - MAX_DETAILED} more in `cases.jsonl`")
        parts.append("")
    return parts


def _json_block(value: Any) -> list[str]:
    return ["```json", json.dumps(value, indent=2, ensure_ascii=False, default=str), "```"]


def _got(result: CaseResult) -> dict[str, Any]:
    got: dict[str, Any] = {"status": result.status_code}
    if result.error:
        got["error"] = result.error
    if result.scores:
        got["scores"] = result.scores
    got.update(result.details)
    return got


def _md_failure_details(results: list[CaseResult]) -> list[str]:
    suites = dict.fromkeys(r.suite for r in results)
    shown = [
        item
        for suite in suites
        for item in _shown(failing([r for r in results if r.suite == suite]))
    ]
    if not shown:
        return []
    parts = ["## Failing case details", ""]
    for result, why in shown:
        inputs, expected = split_case(result.case)
        parts += [
            f'<a id="{anchor(result)}"></a>',
            "",
            f"### {result.suite}: {_case_label(result)}",
            "",
            f"- failed: {'; '.join(why)}",
            f"- request id: {', '.join(f'`{i}`' for i in result.request_ids) or 'none'}",
            f"- latency: {_num(result.latency_ms)} ms",
            "",
            "Inputs:",
            "",
            *_json_block(inputs),
            "",
            "Expected:",
            "",
            *_json_block(expected),
            "",
            "Got:",
            "",
            *_json_block(_got(result)),
            "",
        ]
    return parts


def _html_failures(
    summary: dict[str, Any], results: list[CaseResult]
) -> tuple[list[str], list[str]]:
    """The "Failing cases" section, and the details its links point to."""
    body = ["<h2>Failing cases</h2>", f'<p class="note">{_md_inline(FAILING_NOTE)}</p>']
    details: list[str] = []
    for name, total, failed in _by_suite(summary, results):
        body.append(f"<h3>{html.escape(name)}: {len(failed)} of {total} failed</h3>")
        if not failed:
            body.append("<p>Every case passed every check.</p>")
            continue
        items = []
        for result, why in _shown(failed):
            ids = ", ".join(f"<code>{html.escape(i)}</code>" for i in result.request_ids)
            items.append(
                f'<li><a href="#{anchor(result)}">{html.escape(_case_label(result))}</a>: '
                f"{html.escape('; '.join(why))} (request id {ids or 'none'})</li>"
            )
            details.append(_html_case(result, why))
        if len(failed) > MAX_DETAILED:
            more = len(failed) - MAX_DETAILED
            items.append(f"<li>… and {more} more in <code>cases.jsonl</code></li>")
        body.append(f"<ul>{''.join(items)}</ul>")
    return body, ["<h2>Failing case details</h2>", *details] if details else []


def _html_case(result: CaseResult, why: list[str]) -> str:
    inputs, expected = split_case(result.case)

    def block(title: str, value: Any) -> str:
        text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
        return f"<h4>{title}</h4><pre>{html.escape(text)}</pre>"

    ids = ", ".join(f"<code>{html.escape(i)}</code>" for i in result.request_ids) or "none"
    return (
        f'<section id="{anchor(result)}">'
        f"<h3>{html.escape(result.suite)}: {html.escape(_case_label(result))}</h3>"
        f"<p>failed: {html.escape('; '.join(why))}<br>request id: {ids}<br>"
        f"latency: {_num(result.latency_ms)} ms</p>"
        + block("Inputs", inputs)
        + block("Expected", expected)
        + block("Got", _got(result))
        + "</section>"
    )


# -- html --------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;
color:#222;padding:0 1rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
th{background:#f3f3f3}td:first-child,td:nth-child(2),th:first-child{text-align:left}
tr.regression td{background:#fbdada;font-weight:600}tr.improvement td{background:#e1f5e1}
img{max-width:100%;border:1px solid #eee;margin:.5rem 0}
.note{color:#555;font-size:.9rem}
pre{background:#f7f7f7;padding:.5rem;overflow-x:auto;font-size:.8rem}
section{border-top:1px solid #ddd;margin-top:1rem}
"""


def _html_table(head: Row, rows: list[Row], classes: list[str] | None = None, left: int = 2) -> str:
    out = ["<table><thead><tr>", *(f"<th>{html.escape(h)}</th>" for h in head), "</tr></thead>"]
    out.append("<tbody>")
    for i, row in enumerate(rows):
        cls = classes[i] if classes else ""
        out.append(f'<tr class="{cls}">' if cls else "<tr>")
        out += [f"<td>{html.escape(c)}</td>" for c in row]
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _md_inline(text: str) -> str:
    # The intro lines use `code` and **bold**; enough Markdown for them.
    escaped = html.escape(text)
    parts = escaped.split("`")
    escaped = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    parts = escaped.split("**")
    return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))


def html_report(
    summary: dict[str, Any],
    deltas: list[Delta] | None,
    charts: list[tuple[str, str]],
    image: Callable[[str], bytes],
    results: list[CaseResult] | None = None,
) -> str:
    body = ["<h1>Eval report</h1>"]
    body += [f'<p class="note">{_md_inline(line)}</p>' for line in _intro(summary)]
    body += ["<h2>Cost and latency per suite</h2>", _html_table(*summary_rows(summary))]
    body += ["<h2>Quality</h2>", _html_table(*quality_rows(summary))]
    # The list of failing cases here; their details at the end, after the charts.
    failures, failure_details = _html_failures(summary, results or [])
    body += failures
    block = summary.get("comparison")
    if deltas is None or block is None:
        body += ["<h2>Comparison</h2>", "<p>No earlier run to compare with.</p>"]
    else:
        head, rows = comparison_rows(deltas)
        regressions = sum(1 for d in deltas if d.regression)
        body += [
            "<h2>Comparison with the baseline</h2>",
            f'<p class="note">Baseline <code>{html.escape(block["baseline"])}</code>: '
            f"<strong>{regressions} regression(s)</strong>. Flagged: latency up &gt; 20 %, "
            "cost up &gt; 10 %, quality down &gt; 0.02, error rate up &gt; 0.02.</p>",
            _html_table(head, [r for r, _ in rows], [s for _, s in rows]),
        ]
    head, price = price_rows(summary)
    if price:
        body += ["<h2>Prices used</h2>", _html_table(head, price)]
    body.append("<h2>Charts</h2>")
    for name, title in charts:
        data = base64.b64encode(image(name)).decode()
        body.append(
            f'<figure><img alt="{html.escape(title)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(title)}</figcaption></figure>"
        )
    body += failure_details
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Eval report {html.escape(summary['run_id'])}</title>"
        f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n"
    )


def write_report(
    out: Path,
    summary: dict[str, Any],
    results: list[CaseResult],
    deltas: list[Delta] | None,
) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "summary": out / "summary.json",
        "cases": out / "cases.jsonl",
        "markdown": out / "report.md",
        "html": out / "report.html",
    }
    files["summary"].write_text(json.dumps(summary, indent=2, default=str) + "\n", "utf-8")
    with files["cases"].open("w", encoding="utf-8") as handle:
        for result in results:
            handle.write(json.dumps(result.to_dict(), default=str, ensure_ascii=False) + "\n")
    charts = draw_all(summary, results, out)
    files["markdown"].write_text(markdown(summary, deltas, charts, results), "utf-8")
    files["html"].write_text(
        html_report(summary, deltas, charts, lambda name: (out / name).read_bytes(), results),
        "utf-8",
    )
    for name, _ in charts:
        files[name.removesuffix(".png")] = out / name
    return files
