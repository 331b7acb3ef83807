"""Dashboard charts of the questions HQ published after version 1 (``reports.questions``)."""

from __future__ import annotations

from typing import Any

from desmig_desktop.domain.i18n import _, pick
from desmig_server.web import charts


def question_charts(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One bar chart per new question of ``report`` (its totals, answers by their labels), for
    the HQ dashboard."""
    out = []
    for n, (key, labels) in enumerate(report.get("question_labels", {}).items()):
        title = pick(labels["id"], labels["en"])
        names = labels["choices"]
        bars = [charts.Bar(pick(names[a]["id"], names[a]["en"]) if a in names else a, count)
                for a, count in report["totals"]["questions"].get(key, {}).items()]
        out.append({"key": key, "title": title,
                    "chart": charts.bar_chart(f"chart-question-{n}", title, bars, _("Belum ada jawaban."))})
    return out
