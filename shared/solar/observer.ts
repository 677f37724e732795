/**
 * Where the observatory is in the solar system at an instant: heliocentric J2000 equatorial
 * position (au) and velocity (au/day).
 *
 * The Earth's heliocentric state is VSOP87 (Bretagnon & Francou 1988, A&A 202, 309), as truncated
 * and evaluated by Astronomy Engine (Cross, https://github.com/cosinekitty/astronomy, MIT), which
 * embeds its series in code: nothing is downloaded at run time. The geocentric state of the site
 * is Astronomy Engine's ObserverState: the site's position on the ellipsoid rotated by the Earth
 * rotation angle (UT1 taken as UTC, as its AstroTime does), nutation (IAU 2000B) and precession
 * (IAU 2006) to the J2000 mean equator.
 */
import { AstroTime, Body, HelioState, Observer, ObserverState } from 'astronomy-engine';
import type { Site } from './site.js';
import { MJD_J2000 } from './time.js';

export interface ObserverAt {
  mjdTt: number;
  /** Heliocentric position (au) and velocity (au/day) of the observatory, J2000 equatorial. */
  position: Float64Array;
  velocity: Float64Array;
}

/** The observatory's heliocentric state at mjdTt (TT); `site` null gives the geocentre. */
export function observerAt(mjdTt: number, site: Site | null): ObserverAt {
  const time = AstroTime.FromTerrestrialTime(mjdTt - MJD_J2000);
  const earth = HelioState(Body.Earth, time);
  const topo = site
    ? ObserverState(time, new Observer(site.latitudeDeg, site.longitudeDeg, site.heightM), false)
    : null;
  return {
    mjdTt,
    position: Float64Array.of(
      earth.x + (topo?.x ?? 0),
      earth.y + (topo?.y ?? 0),
      earth.z + (topo?.z ?? 0),
    ),
    velocity: Float64Array.of(
      earth.vx + (topo?.vx ?? 0),
      earth.vy + (topo?.vy ?? 0),
      earth.vz + (topo?.vz ?? 0),
    ),
  };
}
