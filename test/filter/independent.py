"""Independent evaluation of the filter test expressions (test/filter/cases.ts), written by hand.

Reads an Avro container file with python3-avro, a watchlist CSV and a MOC (ASCII), evaluates each
expression with SQL three-valued logic (None is unknown), and prints {expression: [diaSourceId]}
as JSON. HEALPix nested pixels by the standard ang2pix_nest of Gorski et al. (2005), written
here from the HEALPix C library's algorithm; separations from astropy's Vincenty formula.
"""
import csv
import json
import math
import sys

import avro.datafile
import avro.io
import astropy.units as u
from astropy.coordinates import angular_separation

avro_path, watchlist_path, moc_path = sys.argv[1:4]
with open(avro_path, "rb") as f:
    alerts = list(avro.datafile.DataFileReader(f, avro.io.DatumReader()))


def num(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def cmp(op, x, y):
    if x is None or y is None:
        return None
    return {"=": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def AND(*xs):
    if any(x is False for x in xs):
        return False
    return None if any(x is None for x in xs) else True


def OR(*xs):
    if any(x is True for x in xs):
        return True
    return None if any(x is None for x in xs) else False


def NOT(x):
    return None if x is None else not x


def IN(x, items):
    if x is None:
        return None
    if x in [i for i in items if i is not None]:
        return True
    return None if None in items else False


def between(x, lo, hi):
    return AND(cmp(">=", x, lo), cmp("<=", x, hi))


def arith(op, x, y):
    if x is None or y is None:
        return None
    if op == "/" and y == 0:
        return None
    r = {"+": x + y, "-": x - y, "*": x * y, "/": x / y if y else None}[op]
    return r if math.isfinite(r) else None


def mag(f):
    return None if f is None or f <= 0 else -2.5 * math.log10(f * 1e-9 / 3631.0)


def sep_arcsec(ra1, dec1, ra2, dec2):
    s = angular_separation(ra1 * u.deg, dec1 * u.deg, ra2 * u.deg, dec2 * u.deg)
    return s.to(u.arcsec).value


def S(a, name):
    return num(a["diaSource"][name])


def O(a, name):
    return None if a["diaObject"] is None else num(a["diaObject"][name])


def history(a, name):
    return [num(p[name]) for p in (a["prvDiaSources"] or []) if num(p[name]) is not None]


def agg(fn, values):
    return fn(values) if values else None


with open(watchlist_path) as f:
    entries = [(float(r["ra"]), float(r["dec"]), float(r["radius"])) for r in csv.DictReader(f)]


def in_watchlist(a):
    ra, dec = a["diaSource"]["ra"], a["diaSource"]["dec"]
    return any(bool(sep_arcsec(e[0], e[1], ra, dec) <= e[2]) for e in entries)


cells = {}
order = None
for token in open(moc_path).read().replace(",", " ").split():
    if "/" in token:
        head, token = token.split("/")
        order = int(head)
        if not token:
            continue
    lo, _, hi = token.partition("-")
    cells.setdefault(order, set()).update(range(int(lo), int(hi or lo) + 1))


def spread_bits(v):
    out = 0
    for bit in range(32):
        out |= ((v >> bit) & 1) << (2 * bit)
    return out


def ang2pix_nest(order, ra_deg, dec_deg):
    nside = 1 << order
    z = math.sin(math.radians(dec_deg))
    za = abs(z)
    tt = (math.radians(ra_deg) % (2 * math.pi)) / (math.pi / 2)
    if za <= 2 / 3:
        t1 = nside * (0.5 + tt)
        t2 = nside * z * 0.75
        jp, jm = int(t1 - t2), int(t1 + t2)
        ifp, ifm = jp // nside, jm // nside
        face = (ifp | 4) if ifp == ifm else (ifp if ifp < ifm else ifm + 8)
        ix = jm & (nside - 1)
        iy = nside - (jp & (nside - 1)) - 1
    else:
        ntt = min(3, int(tt))
        tp = tt - ntt
        tmp = nside * math.sqrt(3 * (1 - za))
        jp, jm = min(int(tp * tmp), nside - 1), min(int((1 - tp) * tmp), nside - 1)
        if z >= 0:
            face, ix, iy = ntt, nside - jm - 1, nside - jp - 1
        else:
            face, ix, iy = ntt + 8, jp, jm
    return face * nside * nside + spread_bits(ix) + 2 * spread_bits(iy)


def in_watchmap(a):
    ra, dec = a["diaSource"]["ra"], a["diaSource"]["dec"]
    return any(ang2pix_nest(o, ra, dec) in pixels for o, pixels in cells.items())


CASES = {
    "diaSource.snr > 10": lambda a: cmp(">", S(a, "snr"), 10),
    "diaSource.snr >= 10 AND diaSource.reliability < 0.9": lambda a: AND(cmp(">=", S(a, "snr"), 10), cmp("<", S(a, "reliability"), 0.9)),
    "diaSource.snr <= -5 OR diaSource.reliability > 0.95": lambda a: OR(cmp("<=", S(a, "snr"), -5), cmp(">", S(a, "reliability"), 0.95)),
    "diaSource.band = 'g'": lambda a: cmp("=", S(a, "band"), "g"),
    "diaSource.band != 'g'": lambda a: cmp("!=", S(a, "band"), "g"),
    "diaSource.band <> 'r'": lambda a: cmp("!=", S(a, "band"), "r"),
    "diaSource.band IN ('g', 'i')": lambda a: IN(S(a, "band"), ["g", "i"]),
    "diaSource.band NOT IN ('g', 'i')": lambda a: NOT(IN(S(a, "band"), ["g", "i"])),
    "diaSource.snr BETWEEN 5 AND 20": lambda a: between(S(a, "snr"), 5, 20),
    "diaSource.snr NOT BETWEEN 5 AND 20": lambda a: NOT(between(S(a, "snr"), 5, 20)),
    "diaSource.reliability IS NULL": lambda a: S(a, "reliability") is None,
    "diaSource.reliability IS NOT NULL AND diaSource.isDipole IS NULL": lambda a: S(a, "reliability") is not None and S(a, "isDipole") is None,
    "NOT diaSource.isDipole": lambda a: NOT(S(a, "isDipole")),
    "NOT (diaSource.reliability > 0.8)": lambda a: NOT(cmp(">", S(a, "reliability"), 0.8)),
    "diaSource.isDipole = false": lambda a: cmp("=", S(a, "isDipole"), False),
    "diaSource.reliability > 0.8 OR diaSource.isDipole": lambda a: OR(cmp(">", S(a, "reliability"), 0.8), S(a, "isDipole")),
    "abs(diaSource.snr) > 8": lambda a: cmp(">", None if S(a, "snr") is None else abs(S(a, "snr")), 8),
    "-diaSource.snr > 5": lambda a: cmp(">", None if S(a, "snr") is None else -S(a, "snr"), 5),
    "diaSource.psfFlux / diaSource.psfFluxErr - diaSource.snr < 0.01 AND diaSource.psfFlux * 2 + 1 > 3000": lambda a: AND(
        cmp("<", arith("-", arith("/", S(a, "psfFlux"), S(a, "psfFluxErr")), S(a, "snr")), 0.01),
        cmp(">", arith("+", arith("*", S(a, "psfFlux"), 2), 1), 3000),
    ),
    "diaSource.snr / 0 IS NULL": lambda a: arith("/", S(a, "snr"), 0) is None,
    "mag(diaSource.psfFlux) < 22.5": lambda a: cmp("<", mag(S(a, "psfFlux")), 22.5),
    "mag(diaSource.psfFlux) IS NULL": lambda a: mag(S(a, "psfFlux")) is None,
    "cone(150.1, 2.2, 60)": lambda a: bool(sep_arcsec(150.1, 2.2, a["diaSource"]["ra"], a["diaSource"]["dec"]) <= 60),
    "watchlist('targets')": in_watchlist,
    "watchmap('field')": in_watchmap,
    "count(prvDiaSources) >= 3": lambda a: len(a["prvDiaSources"] or []) >= 3,
    "count(prvDiaSources.reliability) < count(prvDiaSources)": lambda a: len(history(a, "reliability")) < len(a["prvDiaSources"] or []),
    "max(prvDiaSources.snr) > 20": lambda a: cmp(">", agg(max, history(a, "snr")), 20),
    "min(prvDiaSources.psfFlux) < 0": lambda a: cmp("<", agg(min, history(a, "psfFlux")), 0),
    "mean(prvDiaSources.snr) BETWEEN 5 AND 15": lambda a: between(agg(lambda v: sum(v) / len(v), history(a, "snr")), 5, 15),
    "diaObject.nDiaSources >= 4 AND diaSource.band IN ('r', 'i') OR diaSource.snr < -6": lambda a: OR(
        AND(cmp(">=", O(a, "nDiaSources"), 4), IN(S(a, "band"), ["r", "i"])), cmp("<", S(a, "snr"), -6)
    ),
    "diaObject.g_psfFluxMean > 0 OR diaObject.g_psfFluxMean IS NULL": lambda a: OR(cmp(">", O(a, "g_psfFluxMean"), 0), O(a, "g_psfFluxMean") is None),
    "diaObject IS NULL": lambda a: a["diaObject"] is None,
}

print(json.dumps({text: [a["diaSourceId"] for a in alerts if fn(a) is True] for text, fn in CASES.items()}))
