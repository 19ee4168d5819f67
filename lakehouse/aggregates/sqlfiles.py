"""The aggregate SQL files: one per table in lakehouse/sql/, each opening with a header that says what it is.

    -- table: mv_incidents_app_day
    -- grain: one row per application, environment and day
    -- reads: stg_incidents, build_params
    -- partitioned by: day            (optional; day tables are written per month and rebuilt per day.
                                        `month of <column>`: a whole-history table, computed whole, stored
                                        one object per month of that column, an object replaced only when
                                        its rows changed)
    -- refresh: hourly                (hourly: every build; daily: daily and full builds only)
    -- materialize: view              (optional; default table. A view is computed where it is read.
                                        month: a table computed one month at a time and holding only that
                                        month; the files that read it run month by month with it, a table
                                        among them gaining each month's rows, a mart table writing its months)
    -- counted on days of: opened_at  (optional, whole-history tables: the day tables count each row on the
                                        days of these columns, so a row changed in the past has its days
                                        rebuilt, from the earliest)
    -- counted with: app_id, priority (with `counted on days of`: the other columns the day tables read; a row
                                        changed in them is a changed row, a change elsewhere is not)
    -- derived on read: error_rate = errors / requests
                                       (optional, mart tables: a column not stored, which readers compute
                                        from the stored ones with this expression)

Files run in name order; a test checks that every table a file reads is built by an earlier file or is
one of the inputs the runner provides (raw_*, ref_*, build_params). Rules several files apply are DuckDB macros in
macros.sql, which every connection running the files defines first.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
MACROS = "macros.sql"
MONTH_OF = re.compile(r"^month of ([a-z_][a-z0-9_]*)$")
COLUMN = re.compile(r"^[a-z_][a-z0-9_]*$")
HEADER_KEYS = "table|grain|reads|partitioned by|refresh|materialize|counted on days of|counted with|derived on read"
HEADER_LINE = re.compile(rf"^--\s*({HEADER_KEYS}):\s*(.*?)\s*$")


@dataclass(frozen=True)
class SqlFile:
    path: Path
    table: str
    grain: str
    reads: tuple[str, ...]
    partitioned_by: str | None
    refresh: Literal["hourly", "daily"]
    text: str
    materialize: Literal["table", "view", "month"] = "table"
    counted_on: tuple[str, ...] = ()
    counted_with: tuple[str, ...] = ()
    derived: tuple[tuple[str, str], ...] = ()

    @property
    def month_column(self) -> str | None:
        """For `partitioned by: month of <column>`: the column whose month places a row in an object."""
        match = MONTH_OF.match(self.partitioned_by or "")
        return match.group(1) if match else None

    @property
    def is_mart(self) -> bool:
        """mv_* tables are written to mart/; the others are intermediate steps."""
        return self.table.startswith("mv_")

    def expression(self, column: str) -> str:
        """How a reader of the table's objects gets `column`: its name, or the expression it is derived by."""
        return dict(self.derived).get(column, column)

    def definitions(self) -> tuple[str, ...]:
        """The header's comment lines after its key lines (what the table's figures mean), without the `--` and
        the blank lines that open them; indented lines keep their indentation."""
        header = []
        for line in self.text.splitlines():
            if not line.startswith("--"):
                break
            if not HEADER_LINE.match(line):
                header.append(line.removeprefix("--").removeprefix(" ").rstrip())
        while header and not header[0]:
            header.pop(0)
        return tuple(header)

    def read_columns(self) -> str:
        """The stored columns and the derived ones, as a select list over the table's objects."""
        return ", ".join(["*", *(f"{self.expression(name)} as {name}" for name, _ in self.derived)])


def load_sql_files(folder: Path = SQL_DIR) -> list[SqlFile]:
    files = []
    for path in sorted(folder.glob("*.sql")):
        if path.name in ("views.sql", MACROS):
            continue  # the analysts' views and the files' macros, not build steps
        files.append(parse_sql_file(path))
    return files


def load_macros(folder: Path = SQL_DIR) -> str:
    """The macros the files use, as statements to run on a connection before any file."""
    return (folder / MACROS).read_text(encoding="utf-8")


def files_version(files: list[SqlFile], macros: str) -> str:
    """A digest of the files' names and texts and of their macros: it changes whenever a file or a macro does, so
    a build can tell that the mart was made by other SQL."""
    digest = hashlib.sha256()
    for sql_file in files:
        digest.update(f"{sql_file.path.name}\0{sql_file.text}\0".encode())
    digest.update(f"{MACROS}\0{macros}\0".encode())
    return digest.hexdigest()[:16]


def parse_sql_file(path: Path) -> SqlFile:
    text = path.read_text(encoding="utf-8")
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        match = HEADER_LINE.match(line)
        if match:
            fields[match.group(1)] = match.group(2)
    missing = [f for f in ("table", "grain", "reads", "refresh") if f not in fields]
    if missing:
        raise ValueError(f"{path.name}: header lacks {', '.join(missing)}")
    refresh = fields["refresh"]
    if refresh not in ("hourly", "daily"):
        raise ValueError(f"{path.name}: refresh must be hourly or daily, not {refresh!r}")
    materialize = fields.get("materialize", "table")
    if materialize not in ("table", "view", "month"):
        raise ValueError(f"{path.name}: materialize must be table, view or month, not {materialize!r}")
    partitioned_by = fields.get("partitioned by") or None
    if partitioned_by not in (None, "day") and not MONTH_OF.match(partitioned_by):
        raise ValueError(f"{path.name}: partitioned by must be day or month of <column>, not {partitioned_by!r}")
    reads = _names(fields["reads"])
    counted_on = _names(fields.get("counted on days of", ""))
    counted_with = _names(fields.get("counted with", ""))
    if counted_with and not counted_on:
        raise ValueError(f"{path.name}: counted with needs counted on days of")
    for name in (*counted_on, *counted_with):
        # They are written into the build's queries.
        if not COLUMN.match(name):
            raise ValueError(f"{path.name}: {name!r} is not a column name")
    derived: tuple[tuple[str, str], ...] = ()
    if "derived on read" in fields:
        name, _, expression = fields["derived on read"].partition("=")
        if not COLUMN.match(name.strip()) or not expression.strip():
            raise ValueError(f"{path.name}: derived on read must be <column> = <expression>")
        derived = ((name.strip(), expression.strip()),)
    return SqlFile(
        path=path,
        table=fields["table"],
        grain=fields["grain"],
        reads=reads,
        partitioned_by=partitioned_by,
        refresh=refresh,  # type: ignore[arg-type]
        text=text,
        materialize=materialize,  # type: ignore[arg-type]
        counted_on=counted_on,
        counted_with=counted_with,
        derived=derived,
    )


def _names(listed: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in listed.split(",") if n.strip() and n.strip() != "none")
