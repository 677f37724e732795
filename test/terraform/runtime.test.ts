/**
 * Every function in terraform/ asks for a Node.js runtime that Google accepts today: GA and not
 * past its decommission date in the schedule table terraform/RUNTIMES.md (dates and source there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { parse } from '@cdktf/hcl2json';

const dir = new URL('../../terraform/', import.meta.url);

interface Schedule {
  stage: string;
  deprecation: string;
  decommission: string;
}

/** The rows of RUNTIMES.md's table by runtime id. */
function schedule(): Map<string, Schedule> {
  const rows = new Map<string, Schedule>();
  for (const line of readFileSync(new URL('RUNTIMES.md', dir), 'utf8').split('\n')) {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells.length !== 4 || !/^nodejs\d+$/.test(cells[0])) continue;
    rows.set(cells[0], { stage: cells[1], deprecation: cells[2], decommission: cells[3] });
  }
  return rows;
}

/** Every `runtime` of a google_cloudfunctions2_function, with locals resolved. */
async function functionRuntimes(): Promise<string[]> {
  const locals: Record<string, unknown> = {};
  const runtimes: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.tf'))) {
    const json = (await parse(file, readFileSync(new URL(file, dir), 'utf8'))) as {
      locals?: Array<Record<string, unknown>>;
      resource?: Record<
        string,
        Record<string, Array<{ build_config?: Array<{ runtime?: string }> }>>
      >;
    };
    for (const block of json.locals ?? []) Object.assign(locals, block);
    for (const bodies of Object.values(json.resource?.google_cloudfunctions2_function ?? {}))
      for (const body of bodies)
        for (const build of body.build_config ?? []) runtimes.push(build.runtime ?? '');
  }
  return runtimes.map((r) => {
    const ref = /^\$\{local\.([a-z_]+)\}$/.exec(r);
    return ref ? String(locals[ref[1]]) : r;
  });
}

test('the schedule table lists the Node.js runtimes with ISO dates', () => {
  const rows = schedule();
  assert.ok(rows.size >= 3, 'RUNTIMES.md has a table of runtimes');
  for (const [id, row] of rows) {
    if (row.stage !== 'GA') continue;
    for (const date of [row.deprecation, row.decommission])
      assert.match(date, /^\d{4}-\d{2}-\d{2}$/, `${id}: dates are YYYY-MM-DD`);
    assert.ok(row.deprecation < row.decommission, `${id}: deprecated before decommissioned`);
  }
});

test("every function's runtime is GA and not decommissioned today", async () => {
  const rows = schedule();
  const today = new Date().toISOString().slice(0, 10);
  const runtimes = await functionRuntimes();
  assert.ok(runtimes.length > 0, 'terraform declares functions');
  for (const runtime of runtimes) {
    const row = rows.get(runtime);
    assert.ok(row, `runtime ${runtime} is not in terraform/RUNTIMES.md`);
    assert.equal(row.stage, 'GA', `${runtime} is ${row.stage}, not GA`);
    assert.ok(today < row.decommission, `${runtime} was decommissioned on ${row.decommission}`);
  }
});

test('the runtime chosen is the GA runtime supported longest', async () => {
  const ga = [...schedule()].filter(([, r]) => r.stage === 'GA');
  const longest = ga.reduce((a, b) => (b[1].decommission > a[1].decommission ? b : a))[0];
  assert.deepEqual([...new Set(await functionRuntimes())], [longest]);
});
