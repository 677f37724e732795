/**
 * Filter expressions covering every operator and function of the language, and the inputs they
 * need: a watchlist CSV and a watchmap MOC built around a set of alerts. The expected matches are
 * computed independently by ./independent.py (python3-avro reading the same Avro file).
 */
import type { Alert } from '../../shared/alerts/types.js';
import { healpixNest } from '../../shared/healpix/index.js';

export const EXPRESSIONS = [
  'diaSource.snr > 10',
  'diaSource.snr >= 10 AND diaSource.reliability < 0.9',
  'diaSource.snr <= -5 OR diaSource.reliability > 0.95',
  "diaSource.band = 'g'",
  "diaSource.band != 'g'",
  "diaSource.band <> 'r'",
  "diaSource.band IN ('g', 'i')",
  "diaSource.band NOT IN ('g', 'i')",
  'diaSource.snr BETWEEN 5 AND 20',
  'diaSource.snr NOT BETWEEN 5 AND 20',
  'diaSource.reliability IS NULL',
  'diaSource.reliability IS NOT NULL AND diaSource.isDipole IS NULL',
  'NOT diaSource.isDipole',
  'NOT (diaSource.reliability > 0.8)',
  'diaSource.isDipole = false',
  'diaSource.reliability > 0.8 OR diaSource.isDipole',
  'abs(diaSource.snr) > 8',
  '-diaSource.snr > 5',
  'diaSource.psfFlux / diaSource.psfFluxErr - diaSource.snr < 0.01 AND diaSource.psfFlux * 2 + 1 > 3000',
  'diaSource.snr / 0 IS NULL',
  'mag(diaSource.psfFlux) < 22.5',
  'mag(diaSource.psfFlux) IS NULL',
  'cone(150.1, 2.2, 60)',
  "watchlist('targets')",
  "watchmap('field')",
  'count(prvDiaSources) >= 3',
  'count(prvDiaSources.reliability) < count(prvDiaSources)',
  'max(prvDiaSources.snr) > 20',
  'min(prvDiaSources.psfFlux) < 0',
  'mean(prvDiaSources.snr) BETWEEN 5 AND 15',
  "diaObject.nDiaSources >= 4 AND diaSource.band IN ('r', 'i') OR diaSource.snr < -6",
  'diaObject.g_psfFluxMean > 0 OR diaObject.g_psfFluxMean IS NULL',
  'diaObject IS NULL',
] as const;

/** Knocks out fields in some alerts so that three-valued logic is exercised (nulls, no DIAObject). */
export function withNulls(alerts: Alert[]): Alert[] {
  return alerts.map((a, k) => {
    const diaSource = { ...a.diaSource };
    if (k % 7 === 3) diaSource.reliability = null;
    if (k % 5 === 1) diaSource.isDipole = null;
    if (k % 13 === 5) diaSource.band = null;
    const prvDiaSources = (a.prvDiaSources ?? []).map((p, j) =>
      j % 3 === 1 ? { ...p, reliability: null } : p,
    );
    return { ...a, diaSource, prvDiaSources, diaObject: k % 11 === 4 ? null : a.diaObject };
  });
}

/** A watchlist CSV: circles around every fourth alert (radii 1-20 arcsec) and a few elsewhere. */
export function watchlistCsv(alerts: Alert[]): string {
  const rows = ['ra,dec,radius,name'];
  alerts.forEach((a, k) => {
    if (k % 4 !== 0) return;
    const radius = 1 + (k % 20);
    rows.push(
      `${a.diaSource.ra + (0.5 * radius) / 3600},${a.diaSource.dec},${radius},"target ${k}, near"`,
    );
  });
  rows.push('10,-30,5,far', '359.9999,0,3600,wrap');
  return `${rows.join('\n')}\n`;
}

/** A MOC of mixed orders: the order-13 pixels of every sixth alert, order-15 ones of every fifth, a range at 16. */
export function watchmapMoc(alerts: Alert[]): string {
  const at = (order: number, step: number) =>
    [
      ...new Set(
        alerts
          .filter((_, k) => k % step === 0)
          .map((a) => healpixNest(a.diaSource.ra, a.diaSource.dec, order)),
      ),
    ].sort((x, y) => x - y);
  const p16 = healpixNest(alerts[1].diaSource.ra, alerts[1].diaSource.dec, 16);
  return `13/${at(13, 6).join(' ')} 15/${at(15, 5).join(' ')}\n16/${p16 - 2}-${p16 + 2} 18/`;
}
