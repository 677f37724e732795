/**
 * The Cloud Functions entry points (one codebase, one entry point each; terraform/functions.tf
 * deploys every one, and test/terraform checks the two lists agree):
 *
 * | entry point   | trigger                         | does                                          |
 * | ------------- | ------------------------------- | --------------------------------------------- |
 * | nextVisit     | Pub/Sub `next-visit`            | preloads each detector of the coming visit    |
 * | nextVisitHttp | HTTP POST                       | the same, for schedulers that POST            |
 * | processImage  | Pub/Sub `raw-arrived`           | image arrival: differencing to alerts         |
 * | alertFanout   | Pub/Sub `alert-batches`         | publishes alerts to `alerts`, archives them   |
 * | alertArchive  | HTTP GET                        | `/v1/alerts/{id}`, `/v1/schemas/{id}`         |
 * | filterAlerts  | Pub/Sub `alerts`                | users' filters; matches to `filtered-alerts`  |
 * | filterApi     | HTTP                            | `/v1/filters`, `/v1/watchlists`, `/v1/watchmaps` |
 * | templateBuilder | Pub/Sub `template-candidates` | records candidates; builds, freezes one tile a request |
 * | templateApi   | HTTP                            | `/v1/templates`: tiles, fill factor, release   |
 */
import * as functions from '@google-cloud/functions-framework';
import { configFromEnv } from './context.js';
import { alertArchive } from './alert-archive.js';
import { alertFanout } from './alert-fanout.js';
import { filterAlerts } from './filter-alerts.js';
import { filterApi } from './filter-api.js';
import { nextVisit, nextVisitHttp } from './next-visit.js';
import { processImage } from './process-image.js';
import { templateApi } from './template-api.js';
import { warmInstance } from './warm.js';
import {
  minCandidatesFromEnv,
  minTileOverlapFromEnv,
  templateBuilder,
  templateConfigFromEnv,
} from './template-builder.js';

// Cold start: a bad deploy-time configuration (AP_PIPELINE_CONFIG) stops the instance here, with
// one line naming the setting, before it takes any event (so a bad deploy fails its health check).
configFromEnv();
minCandidatesFromEnv(templateConfigFromEnv().minInputs);
minTileOverlapFromEnv();

functions.cloudEvent('nextVisit', nextVisit);
functions.http('nextVisitHttp', nextVisitHttp);
functions.cloudEvent('processImage', processImage);
functions.cloudEvent('alertFanout', alertFanout);
functions.http('alertArchive', alertArchive);
functions.cloudEvent('filterAlerts', filterAlerts);
functions.http('filterApi', filterApi);
functions.cloudEvent('templateBuilder', templateBuilder);
functions.http('templateApi', templateApi);

// Cold start: the served entry point (FUNCTION_TARGET) warmed before its first event (warm.ts); on
// the next turn, so that a runner that sets this instance's services after loading it warms those.
setImmediate(() => void warmInstance());
