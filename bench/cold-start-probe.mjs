// One cold start, run in a fresh process by bench/cold-start.ts: loads the function entry points
// from ROOT (dist/ compiled, or the TypeScript sources under tsx), initialises the TF.js backend and
// loads the shipped real/bogus model as processImage does for its first image, then handles a
// first event (a malformed next_visit POSTed to nextVisitHttp through the functions framework,
// answered 400). Prints the milestones in ms since process start as one JSON line.
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { URL } from 'node:url';

const [root, ext] = process.argv.slice(2);
const at = {};
const ff = await import('@google-cloud/functions-framework/testing');
await import(new URL(`${root}/functions/index.${ext}`, import.meta.url).href);
at.entryPointsLoaded = performance.now();
const { loadRealBogus } = await import(
  new URL(`${root}/shared/pipeline/load-realbogus.${ext}`, import.meta.url).href
);
const scorer = await loadRealBogus(() => {});
if (!scorer) throw new Error('no shipped model');
at.modelLoaded = performance.now();
const server = ff.getTestServer('nextVisitHttp').listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const status = await new Promise((resolve, reject) => {
  const req = request(
    {
      host: '127.0.0.1',
      port: server.address().port,
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/json' },
    },
    (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    },
  );
  req.on('error', reject);
  req.end('{"instrument": 1}');
});
at.firstEventHandled = performance.now();
server.close();
const { tfBackendName } = await import(
  new URL(`${root}/shared/tf/backend.${ext}`, import.meta.url).href
);
console.log(JSON.stringify({ ...at, status, backend: tfBackendName(), model: scorer.version }));
