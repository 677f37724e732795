/**
 * templateApi (HTTP, operators): the template tiles and their release (docs/contracts.md):
 *
 *     GET  /v1/templates[?band=B]                  tiles (state, version, TMPLID, fill factor) and fill per band
 *     GET  /v1/templates/{band}/{tile}             one tile, with its rejected inputs and why
 *     POST /v1/templates/{band}/{tile}/release     builds the next version from the tile's candidates and
 *                                                  replaces the frozen template (200; 409 busy; 422 not enough inputs)
 *
 * Every request carries `Authorization: Bearer <token>` (401 otherwise): a Google ID token for
 * AP_TEMPLATE_AUDIENCE, or on the emulators a token of the file AP_TEMPLATE_TOKENS; when
 * AP_TEMPLATE_OPERATORS lists users (comma-separated), only they may call (403).
 */
import type { Request, Response } from '@google-cloud/functions-framework';
import { googleIdentity, tokenFileIdentity, type Identify } from '../shared/adapters/identity.js';
import { fillByBand } from '../shared/template/candidates.js';
import { services } from './context.js';
import { buildTile, templateTiles } from './template-builder.js';
import { log } from './log.js';

let identify: Identify | null = null;

function identityFromEnv(env: NodeJS.ProcessEnv): Identify {
  if (env.AP_TEMPLATE_TOKENS) return tokenFileIdentity(env.AP_TEMPLATE_TOKENS);
  if (env.AP_TEMPLATE_AUDIENCE) return googleIdentity(env.AP_TEMPLATE_AUDIENCE);
  throw new Error(
    'templateApi needs AP_TEMPLATE_AUDIENCE (its URL, for Google ID tokens) or AP_TEMPLATE_TOKENS (a local token file)',
  );
}

/** Forgets the instance's identity check (tests change the environment). */
export function resetTemplateApi(): void {
  identify = null;
}

const TILE_PATH = /^\/v1\/templates\/([A-Za-z0-9_.-]{1,32})\/(\d{1,9})(\/release)?\/?$/;

export async function templateApi(req: Request, res: Response): Promise<void> {
  identify ??= identityFromEnv(process.env);
  const user = await identify(req.get('authorization'));
  if (!user) {
    res.status(401).json({ error: 'Authorization: Bearer <Google ID token> required' });
    return;
  }
  const operators = (process.env.AP_TEMPLATE_OPERATORS ?? '').split(',').filter(Boolean);
  if (operators.length > 0 && !operators.includes(user)) {
    res.status(403).json({ error: `${user} is not a template operator` });
    return;
  }
  const s = services();
  const tiles = templateTiles(s);
  const [path, query = ''] = (req.path || req.url || '/').split('?');
  if (req.method === 'GET' && /^\/v1\/templates\/?$/.test(path)) {
    const band = new URLSearchParams(query).get('band') ?? (req.query?.band as string | undefined);
    const list = await tiles.list(band || undefined);
    res.status(200).json({ bands: fillByBand(list), tiles: list });
    return;
  }
  const m = TILE_PATH.exec(path);
  if (!m) {
    res.status(404).json({ error: `no route ${req.method} ${path}` });
    return;
  }
  const [band, tile, release] = [m[1], Number(m[2]), Boolean(m[3])];
  const record = await tiles.get(band, tile);
  if (!record) {
    res.status(404).json({ error: `no candidates recorded for tile ${tile} in band ${band}` });
    return;
  }
  if (!release) {
    if (req.method !== 'GET') res.status(405).json({ error: 'GET or POST .../release' });
    else res.status(200).json(record);
    return;
  }
  if (req.method !== 'POST') {
    res.status(405).json({ error: 'release is a POST' });
    return;
  }
  const outcome = await buildTile(s, band, tile, true);
  log('INFO', 'template release requested', { user, band, tile, status: outcome.status });
  if (outcome.status === 'frozen') res.status(200).json(outcome.record);
  else if (outcome.status === 'waiting') res.status(422).json({ error: outcome.reason });
  else res.status(409).json({ error: `tile ${tile} in band ${band} is being built; try later` });
}
