/**
 * filterApi (HTTP): users' filters, watchlists and watchmaps (shared/filter/service.ts routes):
 *
 *     POST   /v1/filters {name, where}          create; its matches stream to subscription filter-{id}
 *     GET    /v1/filters[/{id}]                 list / show
 *     POST   /v1/filters/{id}/pause | resume    stop / restart matching
 *     POST   /v1/filters/{id}/replay {days}     publish its matches from the archive's last days
 *     DELETE /v1/filters/{id}
 *     POST   /v1/watchlists {name, csv}  /  /v1/watchmaps {name, moc}; GET and DELETE as above
 *
 * Every request carries `Authorization: Bearer <token>` (401 otherwise); JSON in and out.
 */
import type { Request, Response } from '@google-cloud/functions-framework';
import { replayArchive } from '../shared/filter/replay.js';
import { FilterApi } from '../shared/filter/service.js';
import { services } from './context.js';
import { filterServices } from './filter-context.js';
import { log } from './log.js';

let api: FilterApi | null = null;

export async function filterApi(req: Request, res: Response): Promise<void> {
  const f = filterServices();
  const user = await f.identify(req.get('authorization'));
  if (!user) {
    res.status(401).json({ error: 'Authorization: Bearer <Google ID token> required' });
    return;
  }
  api ??= new FilterApi(f.store, f.streams, f.quotas, async (compiled, doc, days) => {
    const result = await replayArchive(
      services().archive.store,
      compiled,
      days,
      (frame, attributes) => f.streams.publish(frame, { ...attributes, filterId: doc.id }),
    );
    await f.streams.flush();
    return result;
  });
  const path = (req.path || req.url || '/').split('?')[0];
  const response = await api.handle({ method: req.method, path, body: req.body as unknown, user });
  if (response.status >= 400)
    log('INFO', 'filter API refused', { user, method: req.method, path, status: response.status });
  res.status(response.status).json(response.body);
}
