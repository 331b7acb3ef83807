"""Write ``resources/questionnaire/example-v2.xlsx``: the sample spreadsheet of the README's
"Changing the questionnaire" (``desmig-hq questionnaire publish resources/questionnaire/example-v2.xlsx``).

It adds a multiple-choice question and a yes/no question to households, a whole-number question
with a warning to businesses, and a job type to placements. ``tests/server/test_hq_questionnaire.py``
publishes it. Run: ``python scripts/build_questionnaire_example.py``.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

OUT = Path(__file__).resolve().parent.parent / "resources" / "questionnaire" / "example-v2.xlsx"

SURVEY = [
    ["entity", "type", "name", "label::Bahasa Indonesia", "label::English", "hint", "hint::English", "required",
     "relevant", "constraint", "warning", "warning_message::Bahasa Indonesia", "warning_message::English"],
    ["households", "select_multiple pelatihan", "training_attended", "Pelatihan yang pernah diikuti anggota keluarga",
     "Training attended by the family", "Boleh lebih dari satu", "More than one allowed", "no", "", "", "", "", ""],
    ["households", "bool", "has_migrant_abroad_now", "Ada anggota yang sedang bekerja di luar negeri",
     "A member works abroad now", "", "", "no", "${consent} = true()", "", "", "", ""],
    ["businesses", "integer", "female_workers", "Jumlah pekerja perempuan", "Female workers", "", "", "no", "",
     ". >= 0 and . <= 100000", ". <= ${workers}", "Pekerja perempuan melebihi jumlah pekerja",
     "More female workers than workers"],
]
CHOICES = [
    ["list_name", "name", "label::Bahasa Indonesia", "label::English"],
    ["pelatihan", "bahasa", "Bahasa asing", "Foreign language"],
    ["pelatihan", "perawat_lansia", "Perawat lansia", "Elderly care"],
    ["pelatihan", "kewirausahaan", "Kewirausahaan", "Entrepreneurship"],
    ["pelatihan", "keuangan", "Literasi keuangan", "Financial literacy"],
    ["placements.job", "nelayan_darat", "Nelayan/budidaya perikanan darat", "Inland fisheries"],
]


def main() -> None:
    book = Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    choices = book.create_sheet("choices")
    for sheet, rows in ((survey, SURVEY), (choices, CHOICES)):
        for row in rows:
            sheet.append(row)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for column in sheet.columns:
            sheet.column_dimensions[column[0].column_letter].width = max(12, *(len(str(c.value or "")) for c in column))
    book.properties.creator = "Desmig"
    book.save(OUT)


if __name__ == "__main__":
    main()
