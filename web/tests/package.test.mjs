// web/dist/ as a package: its package.json, what `npm pack` would publish, the Custom Elements
// Manifest against the elements themselves, and the README's snippets pinned to this version.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DIST, ROOT } from './helpers.mjs';

const pkg = JSON.parse(fs.readFileSync(path.join(DIST, 'package.json'), 'utf8'));
const module = await import(path.join(DIST, 'attn-lens.js'));
const manifest = JSON.parse(fs.readFileSync(path.join(DIST, 'custom-elements.json'), 'utf8'));

test('package.json: name, version (the module says the same), exports, types, manifest', () => {
  assert.equal(pkg.name, 'attn-lens');
  assert.match(pkg.version, /^\d+\.\d+\.\d+$/);
  assert.equal(module.VERSION, pkg.version);
  assert.equal(pkg.exports['.'].default, './attn-lens.js');
  assert.equal(pkg.types, './attn-lens.d.ts');
  assert.equal(pkg.customElements, 'custom-elements.json');
  for (const target of [pkg.exports['.'].default, pkg.exports['.'].types, pkg.exports['./engine'], pkg.exports['./embed.html']]) {
    assert.ok(fs.existsSync(path.join(DIST, target)), target);
  }
});

test('npm pack: the elements, the worker, the engines, the models, the embed page; not the demo page\'s extras', () => {
  const run = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: DIST, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const files = JSON.parse(run.stdout)[0].files.map((f) => f.path).sort();
  for (const file of ['attn-lens.js', 'attn-lens-worker.js', 'attn-lens-client.js', 'attn-lens-view.js', 'attn-lens-style.js',
    'attn-lens-base.js', 'attn-lens-translate.js', 'attn-lens-export.js', 'attn-lens-tools.js', 'attn-lens.d.ts', 'attnlens.js', 'attnlens.wasm',
    'attnlens-train.js', 'attnlens-train.wasm', 'attnlens-translate.js', 'attnlens-translate.wasm', 'models.json',
    'bilstm-attention.safetensors', 'embed.html', 'embed.css', 'embed.js', 'custom-elements.json', 'package.json']) {
    assert.ok(files.includes(file), `${file} is packed`);
  }
  assert.deepEqual(files.filter((f) => f.startsWith('vendor/') || f.startsWith('study/')), []);
  // Every module the elements import is packed.
  for (const file of files.filter((f) => f.endsWith('.js'))) {
    const source = fs.readFileSync(path.join(DIST, file), 'utf8');
    for (const [, imported] of source.matchAll(/(?:import|from)\s*\(?\s*['"]\.\/([^'"]+)['"]/g)) {
      assert.ok(files.includes(imported), `${file} imports ${imported}, which is packed`);
    }
  }
});

test('the Custom Elements Manifest describes the elements as they are', () => {
  const declarations = manifest.modules.flatMap((m) => m.declarations).filter((d) => d.customElement);
  const classes = { 'attn-lens': module.AttnLensElement, 'attn-lens-translate': module.AttnLensTranslateElement };
  assert.deepEqual(declarations.map((d) => d.tagName).sort(), Object.keys(classes).sort());
  const sources = fs.readdirSync(DIST).filter((f) => /^attn-lens.*\.js$/.test(f)).map((f) => fs.readFileSync(path.join(DIST, f), 'utf8')).join('\n');
  const css = fs.readFileSync(path.join(DIST, 'attn-lens-style.js'), 'utf8');
  for (const declaration of declarations) {
    const element = classes[declaration.tagName];
    assert.deepEqual(declaration.attributes.map((a) => a.name).sort(), [...element.observedAttributes, 'placeholder'].sort(), declaration.tagName);
    for (const attribute of declaration.attributes) {
      const fallback = element.reflected[attribute.name];
      if (fallback !== undefined && attribute.name !== 'link') assert.equal(JSON.parse(attribute.default), fallback, `${declaration.tagName} ${attribute.name}`);
    }
    for (const part of declaration.cssParts) assert.match(sources, new RegExp(`'part', [^)]*\\b${part.name}\\b`), `part ${part.name}`);
    for (const property of declaration.cssProperties) assert.ok(css.includes(`${property.name}:`), property.name);
    for (const event of declaration.events) assert.ok(sources.includes(`'${event.name}'`), event.name);
    for (const member of declaration.members.filter((m) => m.kind === 'method')) {
      assert.equal(typeof element.prototype[member.name], 'function', member.name);
    }
  }
  // Every part the elements set is documented.
  const documented = new Set(declarations.flatMap((d) => d.cssParts.map((p) => p.name)));
  for (const [, parts] of sources.matchAll(/setAttribute\('part', '([^']+)'\)/g)) {
    for (const part of parts.split(' ')) assert.ok(documented.has(part), `part ${part} is documented`);
  }
});

test('the README pins this version in its snippets and states the policies', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const pinned = [...readme.matchAll(/attn-lens@(\d+\.\d+\.\d+)/g)].map((m) => m[1]);
  assert.ok(pinned.length >= 5, 'the Embed it snippets pin a version');
  assert.deepEqual([...new Set(pinned)], [pkg.version]);
  assert.match(readme, /worker-src blob:/);
  assert.match(readme, /'wasm-unsafe-eval'/);
});
