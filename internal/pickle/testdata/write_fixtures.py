"""Writes the pickle fixtures of internal/pickle's tests.

Run from this folder with Debian's python3-pandas (pandas 1.5, numpy 1):
    /usr/bin/python3 write_fixtures.py
The files are committed; tests and CI do not need Python. numpy 2 spells
its modules numpy._core.*: the *_np2 files are the same values with those
names (protocol 2 writes globals as text lines, rewritten in place; protocol
4 through a pickler that names a stand-in module).
"""
import collections
import datetime
import pickle
import sys
import types

import numpy as np
import pandas as pd


def values():
    return {
        "none": None, "true": True, "false": False, "int": -7, "big": 123456789012345678901234567890,
        "float": 2.5, "nan": float("nan"), "inf": float("-inf"), "str": "naïve ✓ 😀", "bytes": b"\x00\xffab",
        "list": [1, "two", 3.0, None, [4]], "tuple": (1, (2, 3)), "dict": {1: "one", "k": {"nested": [1, 2]}},
        "ordered": collections.OrderedDict([("b", 1), ("a", 2)]), "set": {3, 1, 2}, "frozenset": frozenset({"x"}),
        "slice": slice(1, 10, 2), "bytearray": bytearray(b"xy"),
        "datetime": datetime.datetime(2025, 8, 19, 5, 36, 1, 123456), "date": datetime.date(2025, 1, 2),
        "timedelta": datetime.timedelta(days=1, seconds=2, microseconds=3),
        "aware": datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
        "f8": np.array([1.5, float("nan"), -0.0, float("inf")]),
        "f4": np.array([0.25, -1.0], dtype="f4"),
        "i8": np.array([[1, 2, 3], [4, 5, 6]], dtype="i8"),
        "i8f": np.asfortranarray(np.array([[1, 2, 3], [4, 5, 6]], dtype="i8")),
        "i4": np.array([-1, 2**31 - 1], dtype="i4"),
        "u1": np.array([0, 255], dtype="u1"),
        "b1": np.array([True, False, True]),
        "obj": np.array(["a", None, 1.5, [1, 2]], dtype=object),
        "m8": np.array(["2025-01-01T00:00:00.5", "NaT"], dtype="M8[ns]"),
        "U": np.array(["ab", "ü✓"]),
        "big_endian": np.array([1.0, 2.0], dtype=">f8"),
        "scalar_f8": np.float64(2.5), "scalar_i8": np.int64(-3), "scalar_bool": np.bool_(True),
        "scalar_m8": np.datetime64("2025-01-02T03:04:05", "ns"),
    }


class Np2Pickler(pickle._Pickler):
    """Writes numpy's globals under numpy 2's names (numpy._core.*)."""

    def reducer_override(self, obj):
        if isinstance(obj, np.ndarray) and type(obj) is np.ndarray:
            fn, args, state = obj.__reduce__()
            return (_reconstruct, args, state)
        if isinstance(obj, np.generic):
            fn, args = obj.__reduce__()[:2]
            return (scalar, args)
        return NotImplemented


_core = types.ModuleType("numpy._core.multiarray")


def _reconstruct(*a):
    return np.core.multiarray._reconstruct(*a)


def scalar(*a):
    return np.core.multiarray.scalar(*a)


for f in (_reconstruct, scalar):
    f.__module__ = "numpy._core.multiarray"
    f.__qualname__ = f.__name__
    setattr(_core, f.__name__, f)
sys.modules["numpy._core.multiarray"] = _core


class System:
    """Pickles as a call of os.system: the decoder must refuse it."""

    def __reduce__(self):
        import os
        return (os.system, ("echo pwned",))


def frames():
    """DataFrames in several unconsolidated blocks, and Timestamps."""
    df = pd.DataFrame({"f": [1.5, float("nan"), 3.0]})
    df["i"] = [1, 2, 3]
    df["s"] = ["a", None, "c"]
    df["o"] = [[1.0, 2.0], 0.5, None]
    df["t"] = pd.to_datetime(["2025-01-01 00:00:00.5", None, "2025-03-04"])
    df["b"] = [True, False, True]
    df["f2"] = [0.25, 0.5, 0.75]
    named = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index(["r1", "r2"], name="run"))
    return {"df": df, "named": named, "stamps": [pd.Timestamp("2025-01-02 03:04:05.5"), pd.NaT],
            "empty": pd.DataFrame({"a": pd.Series([], dtype="f8")})}


def pandas1():
    """What pandas 1.x writes and pandas 2 does not: Int64Index (after a
    sort or a row filter), UInt64Index and Float64Index; and a
    DatetimeIndex, a CategoricalIndex, a TimedeltaIndex, the extension
    dtypes (categorical, nullable integer, float and boolean, string,
    timedelta, tz-aware datetime), tz-aware Timestamps, and text protocol 0
    escapes."""
    base = pd.DataFrame({"x": [3.0, 1.0, 2.0], "n": [30, 10, 20]})
    ext = pd.DataFrame({
        "cat": pd.Categorical(["lo", "hi", None, "lo"], categories=["lo", "hi"]),
        "int": pd.array([1, None, -3, 2**40], dtype="Int64"),
        "u8": pd.array([0, 255, None, 7], dtype="UInt8"),
        "flt": pd.array([0.5, None, 1.5, -2.0], dtype="Float64"),
        "bool": pd.array([True, None, False, True], dtype="boolean"),
        "str": pd.array(["a", None, "\u00fc\u2603", ""], dtype="string"),
        "td": pd.to_timedelta(["1 days 00:00:01", None, "-00:00:00.000001", "0s"]),
        "tz": pd.to_datetime(["2025-07-01 12:00", None, "2025-01-01 00:00", "2025-03-30 03:00"]).tz_localize("Europe/Paris"),
        "utc": pd.to_datetime(["2025-07-01 12:00:00.5", "2025-01-01", None, "2025-01-01"]).tz_localize("UTC"),
    })
    return {
        "sorted": base.sort_values("x"),
        "filtered": base[base["n"] > 10],
        "uint": pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index(np.array([2**63, 5], dtype="u8"), name="u")),
        "float": pd.DataFrame({"x": [1, 2]}, index=pd.Index([0.5, float("nan")])),
        "dt": pd.DataFrame({"x": [1, 2]}, index=pd.DatetimeIndex(["2025-01-02 03:04:05", None], name="when")),
        "cat": pd.DataFrame({"x": [1, 2, 3]}, index=pd.CategoricalIndex(["b", "a", "b"])),
        "td": pd.DataFrame({"x": [1, 2]}, index=pd.to_timedelta(["1s", None])),
        "ext": ext,
        "text": pd.DataFrame({"s": ["\u2603", "a\\b\nc", "\u00e9", "\\u2603", "\r\x00\x1a", "\U0001f600"]}),
        "stamps": [pd.Timestamp("2025-07-01 12:00", tz="Europe/Paris"), pd.Timestamp("2025-01-01", tz="UTC")],
    }


def units():
    """datetime64 and timedelta64 in every unit numpy has from ns to Y, with
    multiples, before 1970 and past 2262, beside the text numpy itself
    writes for each value; numpy's unitless NaT."""
    def dt(unit, *vals):
        a = np.array(list(vals), dtype=f"M8[{unit}]")
        return a, [str(x) for x in a]

    def tens(*counts):
        # Past 2262, numpy's own text of a 10ns value overflows (it goes
        # through ns): the text is count×10ns after 1970 in exact integers.
        a = np.array(list(counts), dtype="i8").view("M8[10ns]")
        text = []
        for c in counts:
            if c == np.iinfo("i8").min:
                text.append("NaT")
                continue
            s, ns = divmod(c * 10, 10**9)
            t = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=s)
            text.append(f"{t.isoformat()}.{ns:09d}")
        return a, text

    def td(unit, *vals):
        a = np.array(list(vals), dtype=f"m8[{unit}]")
        return a, [int(x.astype("m8[ns]").astype("i8")) if not np.isnat(x) else None for x in a]

    return {
        "datetime64": {
            "ns": dt("ns", "1969-12-31T23:59:59.999999999", "2262-04-11T23:47:16.854775807", "NaT"),
            "10ns": tens(173578704500000001, 10**18 + 7, -(10**18) - 3, np.iinfo("i8").min),
            "us": dt("us", "2025-01-02T03:04:05.123456", "9999-12-31T23:59:59.999999", "NaT"),
            "ms": dt("ms", "1900-01-01T00:00:00.001", "NaT"),
            "s": dt("s", "200000-01-01T00:00:01", "-5000-01-01", "NaT"),
            "m": dt("m", "2025-01-02T03:04", "1800-01-01T00:01", "NaT"),
            "25m": dt("25m", "2025-01-02T03:20", "NaT"),
            "h": dt("h", "2025-01-02T03", "1000-06-01T05", "NaT"),
            "3h": dt("3h", "2025-01-02T03", "NaT"),
            "D": dt("D", "2025-01-02", "0001-01-01", "NaT"),
            "W": dt("W", "2025-01-02", "1900-01-04", "NaT"),
            "2W": dt("2W", "2025-01-02", "NaT"),
            "M": dt("M", "2025-02", "1812-06", "NaT"),
            "Y": dt("Y", "2025", "1066", "NaT"),
            "5Y": dt("5Y", "2025", "NaT"),
        },
        "timedelta64": {
            "ns": td("ns", 1, -1, "NaT"),
            "10us": td("10us", 7, -3, "NaT"),
            "m": td("m", 90, "NaT"),
            "h": td("h", 5, -2, "NaT"),
            "D": td("D", 3, "NaT"),
            "W": td("W", -1, "NaT"),
        },
        "nat": np.datetime64("NaT"), "nat_td": np.timedelta64("NaT"), "nat_array": np.array(["NaT"], dtype="M8"),
        "month": np.datetime64("2025-02", "M"), "hours": np.timedelta64(5, "h"),
    }


def main():
    u = units()
    for proto in (2, 4):
        with open(f"units_p{proto}.pkl", "wb") as f:
            pickle.dump(u, f, protocol=proto)
    v = values()
    fr = frames()
    for proto in (0, 1, 2, 4, 5):
        with open(f"frames_p{proto}.pkl", "wb") as f:
            pickle.dump(fr, f, protocol=proto)
    p1 = pandas1()
    for proto in (0, 2, 4, 5):
        with open(f"pandas1_p{proto}.pkl", "wb") as f:
            pickle.dump(p1, f, protocol=proto)
    with open("frames_p4_np2.pkl", "wb") as f:
        Np2Pickler(f, protocol=4).dump(fr)
    for proto in (0, 1, 2, 4, 5):
        with open(f"values_p{proto}.pkl", "wb") as f:
            pickle.dump(v, f, protocol=proto)
    p2 = pickle.dumps(v, protocol=2).replace(b"cnumpy.core.multiarray\n", b"cnumpy._core.multiarray\n")
    with open("values_p2_np2.pkl", "wb") as f:
        f.write(p2)
    with open("values_p4_np2.pkl", "wb") as f:
        Np2Pickler(f, protocol=4).dump(v)
    with open("system.pkl", "wb") as f:
        pickle.dump({"ok": 1, "evil": System()}, f, protocol=4)


main()
