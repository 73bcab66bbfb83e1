#!/usr/bin/env node
// nexori-mod-build: a TypeScript (or JavaScript) rules mod to a WebAssembly component.
//
//   nexori-mod-build src/mod.ts -o my_mod.wasm     type-check, bundle, componentize
//   nexori-mod-build --types-only                  (re)generate the SDK's WIT types only
//
// 1. `jco guest-types` generates the `nexori:minigame/*` declarations from the WIT into this
//    package's `types/` (the SDK's and the mod's types come from the WIT, never by hand).
// 2. `tsc --noEmit` type-checks the mod with the tsconfig.json beside its package.json.
// 3. rolldown bundles the mod and the SDK into one ES module (`nexori:*` imports stay external).
// 4. componentize-js builds the component for the world `rules-mod-base` with the HTTP and
//    fetch-event features disabled (a rules mod has no network; they would add imports the host
//    does not provide).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const WORLD = 'rules-mod-base';
const sdkDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function fail(message) {
  console.error(`nexori-mod-build: ${message}`);
  process.exit(1);
}

function usage() {
  console.error('usage: nexori-mod-build <entry.ts|entry.js> -o <mod.wasm> [--wit DIR] [--no-check]');
  console.error('       nexori-mod-build --types-only [--wit DIR]');
  process.exit(2);
}

const args = process.argv.slice(2);
let entry, out, witDir = process.env.NEXORI_WIT_DIR, typesOnly = false, check = true;
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === '-o' || arg === '--out') out = args[++i];
  else if (arg === '--wit') witDir = args[++i];
  else if (arg === '--types-only') typesOnly = true;
  else if (arg === '--no-check') check = false;
  else if (arg === '-h' || arg === '--help') usage();
  else if (arg.startsWith('-')) { console.error(`nexori-mod-build: unknown option ${arg}`); usage(); }
  else if (entry === undefined) entry = arg;
  else usage();
}

// The WIT: shipped in the package (`wit/`), or the repository's when the SDK is used in place.
witDir = resolve(witDir ?? (existsSync(join(sdkDir, 'wit')) ? join(sdkDir, 'wit') : join(sdkDir, '..', 'wit')));
if (!existsSync(join(witDir, 'guest.wit'))) fail(`no nexori:minigame WIT in ${witDir} (set --wit or NEXORI_WIT_DIR)`);

// A dependency's package.json, found the way Node finds packages (some do not export it).
function manifestOf(pkg) {
  for (let dir = sdkDir; ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', pkg, 'package.json');
    if (existsSync(manifest)) return manifest;
    if (dirname(dir) === dir) fail(`${pkg} is not installed; run \`npm install\` in ${sdkDir}`);
  }
}

function binOf(pkg, bin) {
  const manifest = manifestOf(pkg);
  const spec = JSON.parse(readFileSync(manifest, 'utf8')).bin;
  return join(dirname(manifest), typeof spec === 'string' ? spec : spec[bin]);
}

function run(what, script, argv, cwd) {
  const result = spawnSync(process.execPath, [script, ...argv], { cwd, stdio: 'inherit' });
  if (result.status !== 0) fail(`${what} failed (exit status ${result.status ?? result.signal})`);
}

// 1. Types, regenerated when any WIT file is newer than them.
const typesDir = join(sdkDir, 'types');
const stamp = join(typesDir, `${WORLD}.d.ts`);
const witMtime = Math.max(...['api', 'guest', 'host', 'types'].map((f) => statSync(join(witDir, `${f}.wit`)).mtimeMs));
if (!existsSync(stamp) || statSync(stamp).mtimeMs < witMtime) {
  mkdirSync(typesDir, { recursive: true });
  // jco resolves the WIT relative to the working directory; give it the directory itself.
  run('jco guest-types', binOf('@bytecodealliance/jco', 'jco'), ['guest-types', '.', '-n', WORLD, '-o', typesDir, '-q'], witDir);
}
if (typesOnly) process.exit(0);
if (entry === undefined || out === undefined) usage();

const entryPath = resolve(entry);
if (!existsSync(entryPath)) fail(`no such file: ${entryPath}`);

// 2. Type-check with the mod's own tsconfig.json (found upwards from the entry).
if (check && /\.[cm]?ts$/.test(entryPath)) {
  let dir = dirname(entryPath);
  while (!existsSync(join(dir, 'tsconfig.json')) && dirname(dir) !== dir) dir = dirname(dir);
  if (existsSync(join(dir, 'tsconfig.json'))) {
    run('type check (tsc --noEmit)', binOf('typescript', 'tsc'), ['--noEmit', '-p', dir], dir);
  } else {
    console.error('nexori-mod-build: no tsconfig.json above the entry; not type-checking');
  }
}

// 3. One ES module.
const { rolldown } = await import('rolldown');
const bundleDir = join(dirname(resolve(out)), '.nexori-build');
mkdirSync(bundleDir, { recursive: true });
const bundlePath = join(bundleDir, 'mod.js');
const bundle = await rolldown({
  input: entryPath,
  external: [/^nexori:/, /^wasi:/],
  platform: 'neutral',
  logLevel: 'warn',
});
await bundle.write({ file: bundlePath, format: 'esm' });
await bundle.close();

// 4. The component.
const { componentize } = await import('@bytecodealliance/componentize-js');
const { component } = await componentize({
  sourcePath: bundlePath,
  witPath: witDir,
  worldName: WORLD,
  disableFeatures: ['http', 'fetch-event'],
});
mkdirSync(dirname(resolve(out)), { recursive: true });
writeFileSync(resolve(out), component);
console.error(`nexori-mod-build: wrote ${out} (${Math.round(component.length / 1024)} KiB)`);
