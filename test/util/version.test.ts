import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { codeVersion, codeVersionAsync, gitCommit } from '../../shared/util/version.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('codeVersionAsync (git run without blocking) gives the version codeVersion records', async () => {
  const { version } = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
    version: string;
  };
  const commit = gitCommit(ROOT);
  const asynchronous = await codeVersionAsync(); // first: nothing cached yet
  assert.equal(asynchronous, commit ? `${version}+${commit}` : version);
  assert.equal(codeVersion(), asynchronous);
});
