/**
 * Static checks of terraform/ (no provider download needed): every reference resolves, the
 * functions and names agree with the code, and service accounts hold only the roles they need.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { parse } from '@cdktf/hcl2json';
import { BUCKET_ROLES, ENTRY_POINTS, TOPICS, deadLetterTopic } from '../../shared/cloud/names.js';
import { configFromEnv } from '../../functions/context.js';
import { FILTER_DEADLINE_SECONDS } from '../../functions/filter-context.js';

const dir = new URL('../../terraform/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.tf'));

type Json = Record<string, unknown>;
const parsed: Array<{ file: string; json: Json }> = [];
for (const file of files) {
  parsed.push({
    file,
    json: (await parse(file, readFileSync(new URL(file, dir), 'utf8'))) as Json,
  });
}

function blocks(kind: string): Array<[type: string, name: string, body: Json]> {
  const out: Array<[string, string, Json]> = [];
  for (const { json } of parsed) {
    const section = json[kind] as Record<string, Record<string, Json[]>> | undefined;
    for (const [type, byName] of Object.entries(section ?? {})) {
      for (const [name, bodies] of Object.entries(byName)) out.push([type, name, bodies[0]]);
    }
  }
  return out;
}

const locals: Json = Object.assign(
  {},
  ...parsed.flatMap(({ json }) => (json.locals as Json[] | undefined) ?? []),
);
const variables = new Set(
  parsed.flatMap(({ json }) => Object.keys((json.variable as Json | undefined) ?? {})),
);
const resources = new Set(blocks('resource').map(([t, n]) => `${t}.${n}`));
const dataSources = new Set(blocks('data').map(([t, n]) => `data.${t}.${n}`));

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

test('terraform fmt -check is clean where terraform is installed', (t) => {
  const probe = spawnSync('terraform', ['version'], { stdio: 'ignore' });
  if (probe.status !== 0) {
    t.skip('terraform not installed; formatting check skipped');
    return;
  }
  const fmt = spawnSync('terraform', ['fmt', '-check', '-recursive', '.'], {
    cwd: dir,
    encoding: 'utf8',
  });
  assert.equal(fmt.status, 0, `terraform fmt would change: ${fmt.stdout}`);
});

test('every resource, data, variable and local reference resolves', () => {
  const unresolved: string[] = [];
  for (const { file, json } of parsed) {
    for (const s of strings(json)) {
      for (const expr of s.match(/\$\{[^}]*\}/g) ?? []) {
        for (const ref of expr.match(
          /\b(data\.[a-z0-9_]+\.[a-z0-9_]+|google_[a-z0-9_]+\.[a-z0-9_]+|var\.[a-z0-9_]+|local\.[a-z0-9_]+)/g,
        ) ?? []) {
          const ok = ref.startsWith('data.')
            ? dataSources.has(ref)
            : ref.startsWith('var.')
              ? variables.has(ref.slice(4))
              : ref.startsWith('local.')
                ? ref.slice(6) in locals
                : resources.has(ref);
          if (!ok) unresolved.push(`${file}: ${ref}`);
        }
      }
    }
  }
  assert.deepEqual(unresolved, []);
});

test('function entry points in terraform and in functions/ are the same set', () => {
  const inTerraform = Object.keys(locals.function_names as Json).sort();
  assert.deepEqual(inTerraform, Object.keys(ENTRY_POINTS).sort());
  const sources = readdirSync(new URL('../../functions/', import.meta.url), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(new URL(`../../functions/${f}`, import.meta.url), 'utf8'))
    .join('\n');
  const registered = [...sources.matchAll(/functions\.(?:http|cloudEvent)\(\s*'([A-Za-z]+)'/g)]
    .map((m) => m[1])
    .sort();
  assert.deepEqual(registered, inTerraform);
  const pubsub = locals.pubsub_functions as Record<string, { topic: string }>;
  for (const [name, spec] of Object.entries(ENTRY_POINTS)) {
    if (spec.trigger === 'pubsub')
      assert.equal(pubsub[name]?.topic, spec.topic, `${name} reads ${spec.topic}`);
    else assert.ok(!(name in pubsub), `${name} is HTTP`);
  }
});

test('every topic and bucket the code uses is declared', () => {
  const topicNames = new Set(
    blocks('resource')
      .filter(([t]) => t === 'google_pubsub_topic')
      .flatMap(([, , b]) => strings(b.name)),
  );
  for (const topic of Object.values(TOPICS))
    assert.ok(topicNames.has(topic), `topic ${topic} declared`);
  const deadLetterName = blocks('resource').find(
    ([t, n]) => t === 'google_pubsub_topic' && n === 'dead_letter',
  )?.[2].name;
  assert.equal(deadLetterName, deadLetterTopic('${each.value.topic}'));
  const bucketNames = new Set(
    blocks('resource')
      .filter(([t]) => t === 'google_storage_bucket')
      .flatMap(([, , b]) => strings(b.name)),
  );
  for (const role of BUCKET_ROLES)
    assert.ok(bucketNames.has(`\${var.prefix}-${role}`), `bucket <prefix>-${role} declared`);
  const notification = blocks('resource').find(([t]) => t === 'google_storage_notification')?.[2];
  assert.equal(notification?.payload_format, 'JSON_API_V1');
  assert.deepEqual(notification?.event_types, ['OBJECT_FINALIZE']);
});

test('no primitive roles; every function subscription has a dead-letter policy and backoff', () => {
  const roles = parsed.flatMap(({ json }) => strings(json)).filter((s) => s.startsWith('roles/'));
  for (const primitive of ['roles/owner', 'roles/editor', 'roles/viewer'])
    assert.ok(!roles.includes(primitive), primitive);
  const sub = blocks('resource').find(
    ([t, n]) => t === 'google_pubsub_subscription' && n === 'function',
  )?.[2];
  assert.ok(sub?.dead_letter_policy && sub.retry_policy && sub.push_config);
});

test("each function's service account holds exactly the roles its code needs", () => {
  // What each handler touches (functions/*.ts): the review gate for any change of grants.
  const needed: Record<string, string[]> = {
    nextVisit: [
      'bucket templates roles/storage.objectViewer',
      'bucket orbits roles/storage.objectViewer',
      'bucket refcats roles/storage.objectViewer',
      'bucket work roles/storage.objectCreator',
      'bucket work roles/storage.objectViewer',
      'topic next-visit-dead-letter roles/pubsub.publisher',
      'project roles/datastore.viewer',
      'project roles/logging.logWriter',
    ],
    nextVisitHttp: [
      'bucket templates roles/storage.objectViewer',
      'bucket orbits roles/storage.objectViewer',
      'bucket refcats roles/storage.objectViewer',
      'bucket work roles/storage.objectCreator',
      'bucket work roles/storage.objectViewer',
      'project roles/datastore.viewer',
      'project roles/logging.logWriter',
    ],
    processImage: [
      'bucket raw roles/storage.objectViewer',
      'bucket templates roles/storage.objectViewer',
      'bucket orbits roles/storage.objectViewer',
      'bucket work roles/storage.objectCreator',
      'bucket work roles/storage.objectViewer',
      'topic alert-batches roles/pubsub.publisher',
      'topic template-candidates roles/pubsub.publisher',
      'topic raw-arrived-dead-letter roles/pubsub.publisher',
      'project roles/datastore.user',
      'project roles/logging.logWriter',
    ],
    alertFanout: [
      'bucket work roles/storage.objectViewer',
      'bucket alerts roles/storage.objectCreator',
      'bucket alerts roles/storage.objectViewer',
      'topic alerts roles/pubsub.publisher',
      'topic alert-batches-dead-letter roles/pubsub.publisher',
      'project roles/datastore.user',
      'project roles/logging.logWriter',
    ],
    alertArchive: ['bucket alerts roles/storage.objectViewer', 'project roles/logging.logWriter'],
    filterAlerts: [
      'topic filtered-alerts roles/pubsub.publisher',
      'topic alerts-dead-letter roles/pubsub.publisher',
      'project roles/datastore.user',
      'project roles/logging.logWriter',
    ],
    filterApi: [
      'bucket alerts roles/storage.objectViewer',
      'topic filtered-alerts roles/pubsub.publisher',
      'project roles/datastore.user',
      'project roles/logging.logWriter',
      'project ${google_project_iam_custom_role.filter_streams.id}',
    ],
    templateBuilder: [
      'bucket raw roles/storage.objectViewer',
      'bucket templates roles/storage.objectCreator',
      'bucket templates roles/storage.objectViewer',
      'topic template-candidates roles/pubsub.publisher',
      'topic template-candidates-dead-letter roles/pubsub.publisher',
      'project roles/datastore.user',
      'project roles/logging.logWriter',
    ],
    templateApi: [
      'bucket raw roles/storage.objectViewer',
      'bucket templates roles/storage.objectUser',
      'project roles/datastore.user',
      'project roles/logging.logWriter',
    ],
  };
  const granted: Record<string, string[]> = {};
  const add = (fn: string, grant: string) => (granted[fn] ??= []).push(grant);
  for (const [fn, bucket, role] of locals.bucket_grants as string[][])
    add(fn, `bucket ${bucket} ${role}`);
  for (const [fn, topic, role] of locals.topic_grants as string[][])
    add(fn, `topic ${topic} ${role}`);
  for (const [fn, role] of locals.project_grants as string[][]) add(fn, `project ${role}`);
  for (const fn of Object.keys(needed))
    assert.deepEqual([...granted[fn]].sort(), [...needed[fn]].sort(), fn);
  assert.deepEqual(Object.keys(granted).sort(), Object.keys(needed).sort());
});

test('the google provider constraint admits the current 7.x major', () => {
  const versions = parsed.find(({ file }) => file === 'versions.tf')?.json.terraform as Array<{
    required_providers: Array<Record<string, { version: string }>>;
  }>;
  const constraint = versions[0].required_providers[0].google.version;
  const admits = (v: number[]) =>
    constraint.split(',').every((c) => {
      const [, op, text] = /^\s*(>=|<=|<|>|=|~>)?\s*([\d.]+)\s*$/.exec(c) ?? [];
      const want = text.split('.').map(Number);
      const cmp = v.map((x, i) => x - (want[i] ?? 0)).find((d) => d !== 0) ?? 0;
      return op === '>='
        ? cmp >= 0
        : op === '<'
          ? cmp < 0
          : op === '<='
            ? cmp <= 0
            : op === '>'
              ? cmp > 0
              : cmp === 0;
    });
  assert.ok(admits([7, 0, 0]) && admits([7, 12, 0]), `${constraint} admits 7.x`);
  assert.ok(!admits([8, 0, 0]), `${constraint} stops before the next major`);
});

test('the APDB survives terraform destroy; the alert archive only by choice', () => {
  const db = blocks('resource').find(([t]) => t === 'google_firestore_database')?.[2];
  assert.equal(db?.deletion_policy, 'ABANDON');
  assert.equal(db?.delete_protection_state, 'DELETE_PROTECTION_ENABLED');
  const archive = blocks('resource').find(
    ([t, n]) => t === 'google_storage_bucket' && n === 'alerts',
  )?.[2];
  assert.equal(archive?.force_destroy, '${var.destroy_alert_archive}');
  const variable = parsed
    .flatMap(({ json }) =>
      Object.entries((json.variable as Record<string, Json[]> | undefined) ?? {}),
    )
    .find(([n]) => n === 'destroy_alert_archive')?.[1][0];
  assert.equal(variable?.default, false);
});

test('functions deploy the staged build, not the working tree, on compiled JavaScript', () => {
  const source = blocks('data').find(([t, n]) => t === 'archive_file' && n === 'source')?.[2];
  assert.equal(source?.source_dir, '${path.module}/../.deploy/source');
  assert.equal(source?.excludes, undefined, 'the staged folder needs no exclusions');
  const env = locals.function_env as Record<string, string>;
  assert.ok(!('NODE_OPTIONS' in env), 'no tsx at run time');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    main: string;
    scripts: Record<string, string>;
  };
  assert.equal(pkg.main, 'dist/functions/index.js');
  assert.equal(pkg.scripts['gcp-build'], '', 'the cloud build installs, it does not rebuild');
});

test('the deploy-time pipeline configuration reaches every function and is checked as JSON', () => {
  const env = locals.function_env as Record<string, string>;
  assert.equal(env.AP_PIPELINE_CONFIG, '${var.pipeline_config}');
  // The template knobs too; empty leaves the code's documented defaults.
  assert.equal(env.AP_TEMPLATE_MIN_TILE_OVERLAP, '${var.template_min_tile_overlap}');
  const variable = parsed
    .flatMap(({ json }) =>
      Object.entries((json.variable as Record<string, Json[]> | undefined) ?? {}),
    )
    .find(([n]) => n === 'pipeline_config')?.[1][0];
  assert.equal(variable?.default, '');
  const validation = (variable?.validation as Json[] | undefined)?.[0];
  assert.match(String(validation?.condition), /jsondecode\(var\.pipeline_config\)/);
});

test('broker subscriptions offer exactly-once delivery as an option, off by default', () => {
  const broker = blocks('resource').find(
    ([t, n]) => t === 'google_pubsub_subscription' && n === 'broker',
  )?.[2];
  assert.ok(broker, 'the broker subscriptions');
  assert.equal(broker.enable_exactly_once_delivery, '${var.broker_exactly_once}');
  // Exactly-once delivery needs an ack deadline of at least 60 s.
  assert.ok(Number(broker.ack_deadline_seconds) >= 60);
  const variable = parsed.flatMap(
    ({ json }) =>
      ((json.variable as Record<string, Json[]> | undefined) ?? {}).broker_exactly_once ?? [],
  )[0];
  assert.ok(variable, 'variable broker_exactly_once');
  assert.equal(variable.default, false);
});

test("the functions give up before the subscription's dead-letter policy, and finish before their timeout", () => {
  const defaults = Object.assign(
    {},
    ...parsed.flatMap(({ json }) =>
      Object.entries((json.variable as Record<string, Json[]> | undefined) ?? {}).map(
        ([name, [body]]) => ({ [name]: body.default }),
      ),
    ),
  );
  const config = configFromEnv({});
  assert.ok(
    config.maxAttempts < Number(defaults.max_delivery_attempts),
    `AP_MAX_ATTEMPTS ${config.maxAttempts} < max_delivery_attempts ${String(defaults.max_delivery_attempts)}`,
  );
  assert.ok(
    config.deadlineSeconds < Number(defaults.function_timeout_seconds),
    `AP_DEADLINE_SECONDS ${config.deadlineSeconds} < function_timeout_seconds ${String(defaults.function_timeout_seconds)}`,
  );
});

test("filterAlerts' deadline is set from its own timeout, and the code's default agrees", () => {
  const env = locals.function_env as Record<string, string>;
  const sizes = locals.function_sizes as Record<string, { timeout: number | string }>;
  const timeout = Number(sizes.filterAlerts.timeout);
  assert.equal(
    env.AP_FILTER_DEADLINE_SECONDS,
    '${floor(local.function_sizes.filterAlerts.timeout * 0.8)}',
  );
  const deadline = FILTER_DEADLINE_SECONDS;
  assert.equal(deadline, Math.floor(timeout * 0.8));
  assert.ok(deadline < timeout, `AP_FILTER_DEADLINE_SECONDS ${deadline} < timeout ${timeout}`);
});
