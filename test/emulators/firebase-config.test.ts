/**
 * The top-level firebase.json: the emulator ports of the contract, in the shape Google's Firebase
 * emulator suite reads (emulators.<service>.{host, port}, rules files that exist, the functions'
 * source the build stages), and the one source of the ports `npm run emulators` and `npm start` use.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { emulatorConfig, parseEmulatorConfig } from '../../emulators/config.js';
import { DEFAULT_PORTS } from '../../emulators/main.js';

const root = new URL('../../', import.meta.url);
const firebase = JSON.parse(readFileSync(new URL('firebase.json', root), 'utf8')) as {
  emulators: Record<string, unknown>;
  functions: Array<{ source: string; runtime: string }>;
  firestore: { rules: string };
  storage: { rules: string };
};

test('firebase.json holds the contract ports and the project id is in .firebaserc', () => {
  const config = emulatorConfig();
  assert.equal(config.pubsub.port, 8085);
  assert.equal(config.firestore.port, 8080);
  assert.equal(config.storage.port, 9023);
  assert.ok(config.functions.port > 0);
  assert.equal(config.projectId, 'ap-local');
  assert.deepEqual(DEFAULT_PORTS, { pubsub: 8085, storage: 9023, firestore: 8080 });
});

test('firebase.json has only keys the Firebase emulator suite knows, and its files exist', () => {
  const known = new Set(['singleProjectMode', 'pubsub', 'firestore', 'storage', 'functions', 'ui']);
  for (const key of Object.keys(firebase.emulators)) assert.ok(known.has(key), `emulators.${key}`);
  for (const service of ['pubsub', 'firestore', 'storage', 'functions']) {
    const e = firebase.emulators[service] as Record<string, unknown>;
    assert.deepEqual(Object.keys(e).sort(), ['host', 'port'], service);
  }
  for (const rules of [firebase.firestore.rules, firebase.storage.rules])
    assert.ok(existsSync(new URL(rules, root)), `${rules} exists`);
  assert.equal(firebase.functions[0].source, '.deploy/source', 'the staged build of npm run build');
  const tf = readFileSync(new URL('terraform/functions.tf', root), 'utf8');
  assert.ok(
    tf.includes(`runtime = "${firebase.functions[0].runtime}"`),
    'the same runtime as terraform',
  );
});

test('a bad emulator configuration fails with one line naming the file and the field', () => {
  assert.throws(
    () =>
      parseEmulatorConfig(
        '{"emulators": {"pubsub": {"port": "x"}}}',
        '{"projects": {"default": "p"}}',
      ),
    /^Error: firebase\.json: emulators\.pubsub\.port must be an integer port, got "x"$/,
  );
  assert.throws(
    () => parseEmulatorConfig('{}', '{"projects": {"default": "p"}}'),
    /firebase\.json: no "emulators" section/,
  );
  const ok = readFileSync(new URL('firebase.json', root), 'utf8');
  assert.throws(() => parseEmulatorConfig(ok, '{}'), /\.firebaserc: projects\.default/);
});
