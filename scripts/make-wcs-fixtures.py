#!/usr/bin/python3
"""Reference pixel <-> sky values for shared/wcs, from implementations independent of ours.

Run with Debian's python3 (astropy 5.2, which bundles wcslib 7.12):
    /usr/bin/python3 scripts/make-wcs-fixtures.py
Writes test/fixtures/wcs/<case>.json: the header cards, a grid of 0-based pixel positions over
the detector and the reference (ra, dec) in degrees. TAN and TAN-SIP come from astropy's
all_pix2world; TPV from a direct numpy evaluation of the published TPV polynomial
(https://fits.gsfc.nasa.gov/registry/tpvwcs/tpv.html) plus the gnomonic deprojection, checked
here against wcslib's own TPV (which astropy uses for RA---TPV) to 1e-10 deg.
"""
import json
import os
import sys

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'wcs')
DECAM = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'data', 'decam-mini', 'DEC-OBS04a.mini.fits')
ARCSEC = 1 / 3600


def grid(x0, y0, width, height, nx=33, ny=17):
    xs, ys = np.meshgrid(np.linspace(x0, x0 + width - 1, nx), np.linspace(y0, y0 + height - 1, ny))
    rng = np.random.default_rng(7)
    rx = rng.uniform(x0, x0 + width - 1, 64)
    ry = rng.uniform(y0, y0 + height - 1, 64)
    return np.concatenate([xs.ravel(), rx]), np.concatenate([ys.ravel(), ry])


def cd(scale_arcsec, rot_deg):
    s, r = scale_arcsec * ARCSEC, np.radians(rot_deg)
    return {'CD1_1': -s * np.cos(r), 'CD1_2': s * np.sin(r), 'CD2_1': s * np.sin(r), 'CD2_2': s * np.cos(r)}


def tan_cards(crpix, crval, linear, suffix='TAN'):
    cards = {'CTYPE1': 'RA---' + suffix, 'CTYPE2': 'DEC--' + suffix, 'CUNIT1': 'deg', 'CUNIT2': 'deg',
             'CRPIX1': crpix[0], 'CRPIX2': crpix[1], 'CRVAL1': crval[0], 'CRVAL2': crval[1]}
    cards.update(linear)
    return cards


def header_of(cards):
    h = fits.Header()
    for k, v in cards.items():
        h[k] = v
    return h


def sip_terms(name, coeffs):
    return {f'{name}_{p}_{q}': c for (p, q), c in coeffs.items()}


def fit_sip_inverse(a, b, width, height, crpix, order):
    """Least-squares AP/BP of the given order over the detector (as SIP writers do)."""
    xs, ys = np.meshgrid(np.linspace(0, width - 1, 80), np.linspace(0, height - 1, 40))
    u, v = xs.ravel() - (crpix[0] - 1), ys.ravel() - (crpix[1] - 1)
    fu = u + sum(c * u**p * v**q for (p, q), c in a.items())
    fv = v + sum(c * u**p * v**q for (p, q), c in b.items())
    powers = [(p, q) for p in range(order + 1) for q in range(order + 1 - p)]
    design = np.stack([fu**p * fv**q for p, q in powers], axis=1)
    ap = np.linalg.lstsq(design, u - fu, rcond=None)[0]
    bp = np.linalg.lstsq(design, v - fv, rcond=None)[0]
    return dict(zip(powers, ap)), dict(zip(powers, bp))


def tpv_exponents():
    out = [(0, 0, 0)]
    for d in range(1, 8):
        out += [(i, d - i, 0) for i in range(d, -1, -1)]
        if d % 2:
            out.append((0, 0, d))
    return out


def tpv_numpy(cards, px, py):
    """Pixel (0-based) -> (ra, dec) by the TPV definition, independent of wcslib."""
    u, v = px - (cards['CRPIX1'] - 1), py - (cards['CRPIX2'] - 1)
    x = cards['CD1_1'] * u + cards['CD1_2'] * v
    y = cards['CD2_1'] * u + cards['CD2_2'] * v
    r = np.hypot(x, y)
    xi = np.zeros_like(x)
    eta = np.zeros_like(x)
    for k, (a, b, c) in enumerate(tpv_exponents()):
        pv1 = cards.get(f'PV1_{k}', 1.0 if k == 1 else 0.0)
        pv2 = cards.get(f'PV2_{k}', 1.0 if k == 1 else 0.0)
        xi += pv1 * x**a * y**b * r**c
        eta += pv2 * y**a * x**b * r**c
    # Gnomonic deprojection about (CRVAL1, CRVAL2) with LONPOLE 180 (textbook form).
    a0, d0 = np.radians(cards['CRVAL1']), np.radians(cards['CRVAL2'])
    xr, yr = np.radians(xi), np.radians(eta)
    ra = a0 + np.arctan2(xr, np.cos(d0) - yr * np.sin(d0))
    dec = np.arctan2(np.sin(d0) + yr * np.cos(d0), np.hypot(xr, np.cos(d0) - yr * np.sin(d0)))
    return np.degrees(ra) % 360, np.degrees(dec)


def separation_deg(ra1, dec1, ra2, dec2):
    r1, d1, r2, d2 = map(np.radians, (ra1, dec1, ra2, dec2))
    h = np.sin((d2 - d1) / 2) ** 2 + np.cos(d1) * np.cos(d2) * np.sin((r2 - r1) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(h)))


def write(name, description, cards, box, ra, dec, px, py, extra=None):
    os.makedirs(OUT, exist_ok=True)
    doc = {'name': name, 'description': description, 'box': box,
           'header': [[k, v.item() if hasattr(v, 'item') else v] for k, v in cards.items()],
           'x': px.tolist(), 'y': py.tolist(), 'ra': (np.asarray(ra) % 360).tolist(), 'dec': np.asarray(dec).tolist()}
    doc.update(extra or {})
    with open(os.path.join(OUT, name + '.json'), 'w') as f:
        json.dump(doc, f, indent=None, separators=(',', ':'))
        f.write('\n')
    print(f'{name}: {len(px)} points', file=sys.stderr)


def astropy_case(name, description, cards, width=4096, height=2048, x0=0, y0=0):
    px, py = grid(x0, y0, width, height)
    ra, dec = WCS(header_of(cards)).all_pix2world(px, py, 0)
    write(name, description, cards, [x0, y0, width, height], ra, dec, px, py, {'reference': 'astropy all_pix2world'})


def tpv_case(name, description, cards, width, height, x0=0, y0=0):
    px, py = grid(x0, y0, width, height)
    ra, dec = tpv_numpy(cards, px, py)
    wra, wdec = WCS(header_of(cards)).all_pix2world(px, py, 0)
    diff = float(np.max(separation_deg(ra, dec, wra, wdec)))
    assert diff < 1e-10, f'{name}: numpy TPV and wcslib TPV differ by {diff} deg'
    write(name, description, cards, [x0, y0, width, height], ra, dec, px, py,
          {'reference': 'numpy TPV polynomial', 'wcslibMaxDiffDeg': diff})


def main():
    astropy_case('tan-cd-wrap', 'TAN with a rotated CD matrix straddling RA 0/360',
                 tan_cards([2048.5, 1024.5], [0.03, -12.5], cd(0.2, 17.0)))
    astropy_case('tan-pc-cdelt', 'TAN with PC + CDELT and LONPOLE 170',
                 tan_cards([1500.0, 900.0], [150.1, 2.2],
                           {'CDELT1': -0.26 * ARCSEC, 'CDELT2': 0.25 * ARCSEC, 'PC1_1': 0.99, 'PC1_2': 0.12,
                            'PC2_1': -0.1, 'PC2_2': 1.01, 'LONPOLE': 170.0}))
    astropy_case('tan-crota2', 'TAN with legacy CDELT + CROTA2',
                 tan_cards([2048.5, 1024.5], [210.0, 54.3],
                           {'CDELT1': -0.3 * ARCSEC, 'CDELT2': 0.3 * ARCSEC, 'CROTA2': 30.0}))
    astropy_case('tan-pole', 'TAN whose detector covers the north celestial pole',
                 tan_cards([2048.5, 1024.5], [45.0, 89.98], cd(0.2, -5.0)))

    crpix = [2048.5, 1024.5]
    a = {(2, 0): 2.1e-7, (1, 1): -1.3e-7, (0, 2): 8e-8, (3, 0): 3e-11, (1, 2): -2e-11, (0, 3): 1.5e-11}
    b = {(2, 0): -9e-8, (1, 1): 1.7e-7, (0, 2): 1.1e-7, (2, 1): 2.5e-11, (0, 3): -1e-11, (3, 0): 6e-12}
    sip = tan_cards(crpix, [359.95, 30.0], cd(0.2, 3.0), 'TAN-SIP')
    sip.update({'A_ORDER': 3, 'B_ORDER': 3, **sip_terms('A', a), **sip_terms('B', b)})
    astropy_case('sip-no-inverse', 'TAN-SIP order 3 without AP/BP', dict(sip))
    ap, bp = fit_sip_inverse(a, b, 4096, 2048, crpix, 4)
    sip.update({'AP_ORDER': 4, 'BP_ORDER': 4, **sip_terms('AP', ap), **sip_terms('BP', bp)})
    astropy_case('sip-with-inverse', 'TAN-SIP order 3 with fitted AP/BP of order 4', sip)

    tpv = tan_cards([2048.5, 1024.5], [359.98, -30.0], cd(0.263, 1.0), 'TPV')
    rng = np.random.default_rng(11)
    for k, (i, j, rr) in enumerate(tpv_exponents()):
        degree = i + j + rr
        if k in (1,):
            tpv[f'PV1_{k}'], tpv[f'PV2_{k}'] = 1.002, 0.998
        elif k != 3:
            scale = {0: 2e-4, 1: 5e-3, 2: 6e-3, 3: 1e-2}.get(degree, 0.05)
            tpv[f'PV1_{k}'], tpv[f'PV2_{k}'] = rng.normal(0, scale, 2).tolist()
    tpv_case('tpv-synthetic', 'TPV with all 40 terms (PV_3 = 0, r^3, r^5, r^7 set)', tpv, 4096, 2048)

    decam = fits.getheader(DECAM)
    keys = [k for k in decam if k.startswith(('CTYPE', 'CUNIT', 'CRPIX', 'CRVAL', 'CD', 'PV'))]
    decam_cards = {k: decam[k] for k in keys}
    tpv_case('tpv-decam', 'TPV of the real DECam N6 frame DEC-OBS04a.mini.fits over a 2048 x 4096 CCD-sized box',
             decam_cards, 2048, 4096, -512, -512)


if __name__ == '__main__':
    main()
