#!/usr/bin/python3
"""Writes the FITS reader's test fixtures with an independent implementation (astropy 5.2).

Run with Debian's interpreter, which has astropy:  /usr/bin/python3 scripts/make-fits-fixtures.py
Writes small files into test/fixtures/fits/ and expected.json, which holds for every image HDU
its name, BITPIX, size, a SHA-256 of its pixel values (as little-endian float64, NaN canonical),
the sum of its finite pixels, a few sample pixels, and selected header values.
"""
import hashlib
import json
import math
import os

import numpy as np
from astropy.io import fits

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'fits')
W, H = 64, 48
rng = np.random.RandomState(20261125)


def sky(dtype=np.float32, level=1000.0, noise=10.0):
    """A sky level with Gaussian noise and two stars: realistic input for quantization."""
    y, x = np.mgrid[0:H, 0:W]
    img = level + noise * rng.standard_normal((H, W))
    for (x0, y0, flux) in [(20.3, 15.7, 5000.0), (45.1, 30.2, 20000.0)]:
        img += flux / (2 * math.pi * 2.0 ** 2) * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * 2.0 ** 2))
    return img.astype(dtype)


def digest(data):
    values = np.ascontiguousarray(np.asarray(data, dtype='<f8')).copy()
    values[np.isnan(values)] = np.nan  # one NaN bit pattern
    canonical = values.view('<u8').copy()
    canonical[np.isnan(values)] = 0x7FF8000000000000
    return hashlib.sha256(canonical.tobytes()).hexdigest()


def describe(hdu):
    bitpix = hdu.header['BITPIX']  # as stored: read before the data, which rescales the header
    data = hdu.data
    flat = np.asarray(data, dtype=np.float64).ravel()
    h, w = data.shape
    picks = sorted({0, 1, w - 1, w, (h // 2) * w + w // 2, flat.size - 1})
    return {
        'name': hdu.name,
        'bitpix': bitpix,
        'width': int(w),
        'height': int(h),
        'dtype': data.dtype.name,
        'sha256': digest(data),
        'finiteSum': float(np.sum(flat[np.isfinite(flat)])),
        'nanCount': int(np.sum(np.isnan(flat))),
        'samples': [[i, None if math.isnan(flat[i]) else float(flat[i])] for i in picks],
    }


def header_values(header, keys):
    return {k: header[k] for k in keys}


expected = {}


def save(name, hdul, header_keys=None):
    path = os.path.join(OUT, name)
    hdul.writeto(path, overwrite=True)
    with fits.open(path) as f:  # describe what astropy reads back, not what we meant to write
        hdus = [describe(h) for h in f if h.is_image and h.header['NAXIS'] > 0]
        entry = {'hdus': hdus, 'hduCount': len(f)}
        if header_keys:
            entry['header'] = {str(i): header_values(f[i].header, keys) for i, keys in header_keys.items()}
    expected[name] = entry


os.makedirs(OUT, exist_ok=True)

# Every BITPIX in one multi-extension file, plus an int16 primary image.
ramp = np.arange(W * H).reshape(H, W)
mef = fits.HDUList([fits.PrimaryHDU(((ramp * 37) % 30000 - 15000).astype('>i2'))])
mef.append(fits.ImageHDU((ramp % 256).astype(np.uint8), name='B8'))
mef.append(fits.ImageHDU((ramp * 7919 % 60000 - 30000).astype(np.int16), name='I16'))
mef.append(fits.ImageHDU((ramp * 104729 - 150000000).astype(np.int32), name='I32'))
mef.append(fits.ImageHDU((ramp.astype(np.int64) * 1000003 - 2 ** 40), name='I64'))
mef.append(fits.ImageHDU(sky(np.float32), name='F32'))
f64 = sky(np.float64)
f64[3, 5] = np.nan
f64[10, 7] = 1e-300
mef.append(fits.ImageHDU(f64, name='F64'))
mef.append(fits.BinTableHDU.from_columns([fits.Column(name='A', format='J', array=np.arange(5))], name='TABLE'))
mef.append(fits.ImageHDU(np.zeros((4, 3), dtype=np.float32), name='AFTER_TABLE'))
save('mef-all-bitpix.fits', mef)

# Scaled int16 (BSCALE/BZERO, BLANK) and the unsigned int16 convention.
scaled = fits.PrimaryHDU((ramp % 2000 - 1000).astype(np.int16))
scaled.header['BSCALE'] = 0.25
scaled.header['BZERO'] = 100.0
scaled.header['BLANK'] = -1000
save('scaled-int16.fits', fits.HDUList([scaled]))
save('uint16.fits', fits.HDUList([fits.PrimaryHDU((ramp * 13 % 65536).astype(np.uint16))]))

# Header features: CONTINUE long strings, HIERARCH, commentary, logicals, D exponents, quotes.
LONGSTR = ('This is a long string value that does not fit on one card, so it continues '
           "over CONTINUE cards; it has 'quotes' too and ends here.")
hdr = fits.Header()
hdr['LONGSTR'] = (LONGSTR, 'a long comment')
hdr['QUOTED'] = ("O'Brien's", 'escaped quotes')
hdr['EMPTYSTR'] = ''
hdr['FLAG'] = (True, 'a logical')
hdr['NOFLAG'] = False
hdr['INTVAL'] = -42
hdr['BIGINT'] = 1234567890123
hdr['FLOATVAL'] = 3.141592653589793
hdr['SMALL'] = 1.5e-12
hdr['HIERARCH ESO DET CHIP NAME'] = ('CCD-42', 'hierarch string')
hdr['HIERARCH ESO TEL FOCU VALUE'] = -0.125
hdr['COMMENT'] = 'first comment'
hdr['HISTORY'] = 'made by make-fits-fixtures.py'
hdr['COMMENT'] = 'second comment'
hdr.append(fits.Card.fromstring('DEXP    =             1.25D+03 / Fortran D exponent'))
hdr.append(fits.Card.fromstring("UNDEF   =                      / undefined value"))
save('header-cards.fits', fits.HDUList([fits.PrimaryHDU(np.zeros((2, 3), dtype=np.int16), header=hdr)]),
     {0: ['LONGSTR', 'QUOTED', 'EMPTYSTR', 'FLAG', 'NOFLAG', 'INTVAL', 'BIGINT', 'FLOATVAL', 'SMALL',
          'ESO DET CHIP NAME', 'ESO TEL FOCU VALUE', 'DEXP']})
# astropy 5.2 writes LONGSTR correctly but reads it back without the text around a '' escape
# that ends a CONTINUE piece: the expected value is the one written (visible in the file's cards)
expected['header-cards.fits']['header']['0']['LONGSTR'] = LONGSTR
expected['header-cards.fits']['comments'] = ['first comment', 'second comment']
expected['header-cards.fits']['history'] = ['made by make-fits-fixtures.py']
expected['header-cards.fits']['longComment'] = 'a long comment'

# Tile-compressed images, as fpack/astropy write them.
i16 = (sky(np.float64) - 900).astype(np.int16)
i32 = (sky(np.float64) * 1000).astype(np.int32)
u8 = np.clip(sky(np.float64) / 20, 0, 255).astype(np.uint8)
f32 = sky(np.float32)
# astropy 5.2 writes these NaNs as the null integer without a ZBLANK card, so its own reader
# (and ours, following the convention) returns finite values there: a quirk the fixture records
f32nan = sky(np.float32)
f32nan[7, 9] = np.nan
f32nan[40, 60] = np.nan
u16 = (sky(np.float64) * 20).astype(np.uint16)


def comp(data, name, **kw):
    return fits.CompImageHDU(data, name=name, **kw)


save('compressed.fits', fits.HDUList([
    fits.PrimaryHDU(),
    comp(i16, 'RICE_I16', compression_type='RICE_1'),
    comp(i32, 'RICE_I32', compression_type='RICE_1'),
    comp(u8, 'RICE_U8', compression_type='RICE_1'),
    comp(u16, 'RICE_U16', compression_type='RICE_1'),
    comp(i32, 'GZIP_I32', compression_type='GZIP_1'),
    comp(i16, 'GZIP2_I16', compression_type='GZIP_2'),
    comp(i32, 'RICE_TILES', compression_type='RICE_1', tile_size=(16, 10)),
    comp(f32, 'RICE_F32_D1', compression_type='RICE_1', quantize_method=1, dither_seed=17),
    comp(f32nan, 'RICE_F32_NAN', compression_type='RICE_1', quantize_method=1, dither_seed=9999),
    comp(f32, 'RICE_F32_ND', compression_type='RICE_1', quantize_method=-1),
    comp(f32, 'RICE_F32_D2', compression_type='RICE_1', quantize_method=2, dither_seed=3),
    comp(f32, 'GZIP_F32', compression_type='GZIP_1', quantize_level=8, dither_seed=500),
    comp(sky(np.float64), 'GZIP_F64', compression_type='GZIP_1', dither_seed=42),
]))

with open(os.path.join(OUT, 'expected.json'), 'w') as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write('\n')
print('wrote', sorted(expected), 'to', os.path.normpath(OUT))
