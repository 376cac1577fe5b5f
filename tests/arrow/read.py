"""Reads an Arrow IPC stream (the file named by argv[1]) with pyarrow and with polars, and prints
what a script would see as one JSON document: each column's name and Arrow type, the rows as
pyarrow gives them (dates, times and timestamps in ISO form, decimals as their exact text, binary
as hex), and whether polars read the same table."""

import json
import sys

import polars
import pyarrow
import pyarrow.ipc


def plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


with open(sys.argv[1], "rb") as source:
    table = pyarrow.ipc.open_stream(source).read_all()
frame = polars.read_ipc_stream(sys.argv[1])
print(json.dumps({
    "schema": [[field.name, str(field.type)] for field in table.schema],
    "rows": [{k: plain(v) for k, v in row.items()} for row in table.to_pylist()],
    "polars_rows": frame.height,
    "polars_columns": frame.columns,
    "polars_matches": frame.equals(polars.from_arrow(table)),
}))
