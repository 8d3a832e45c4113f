#!/usr/bin/env node
// Builds the plugin executables:
//   build/<plugin>.cjs   one esbuild bundle per plugin (CommonJS loads fastest)
//   build/tscni.cjs      the operator CLI and the agent (src/cli/main.ts)
//   build/native/*.node  the two native addons, dlopened directly
//   build/client         the native client (client/tscni-client.c), when a C compiler is there
//   bin/<plugin>         what a runtime execs: the native client, which asks the
//                        agent and else runs `node build/run.cjs <plugin>`
//                        (named in bin/.tscni/fallback); without a C compiler,
//                        a /bin/sh launcher of that same Node path
//   bin/tscni            the CLI's launcher
// Start-up is the largest cost of a plugin run, so the bundle avoids module
// resolution, the packages' addon probing and zod on the happy path.
import { build } from 'esbuild'
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { spawnSync } from 'node:child_process'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(root, 'package.json'))
export const PLUGINS = ['loopback', 'host-local', 'bridge']
/** Bundles that are not plugins: name → entry. */
const TOOLS = { tscni: 'src/cli/main.ts' }

const nativeShim = {
  name: 'tscni-native',
  setup (b) {
    // Every import of src/netlink/native.js (also from outside src/netlink), so that the bundle holds one copy.
    b.onResolve({ filter: /(^|\/)native\.js$/ }, (args) =>
      join(args.resolveDir, args.path) === join(root, 'src', 'netlink', 'native.js') ? { path: join(root, 'scripts/bundle/native.cjs') } : undefined)
    b.onResolve({ filter: /^node-gyp-build$/ }, () => ({ path: join(root, 'scripts/bundle/node-gyp-build.cjs') }))
  }
}

export async function buildPlugins (outDir = join(root, 'build')) {
  mkdirSync(join(outDir, 'native'), { recursive: true })
  // Caches of an older bundle would be rejected anyway; drop them.
  for (const f of readdirSync(outDir)) if (f.endsWith('.cache')) rmSync(join(outDir, f))
  // Copy, then rename into place: a plugin running meanwhile keeps its mapped
  // addon (overwriting a mapped .node in place can crash it with SIGBUS).
  const install = (from, to) => { copyFileSync(from, `${to}.tmp`); renameSync(`${to}.tmp`, to) }
  install(require.resolve('netlink/prebuilds/linux-x64/node.napi.node'), join(outDir, 'native', 'netlink.node'))
  const koffiPkg = dirname(require.resolve('@koromix/koffi-linux-x64/package.json'))
  install(join(koffiPkg, 'linux_x64', 'koffi.node'), join(outDir, 'native', 'koffi.node'))
  install(join(root, 'scripts/bundle/run.cjs'), join(outDir, 'run.cjs'))
  const built = []
  const entries = [...PLUGINS.map(name => [name, join(root, 'src', 'plugins', name, 'main.ts')]), ...Object.entries(TOOLS).map(([n, e]) => [n, join(root, e)])]
  for (const [name, entry] of entries) {
    if (!existsSync(entry)) continue
    await build({
      entryPoints: [entry],
      outfile: join(outDir, `${name}.cjs`),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      minify: true,
      legalComments: 'none',
      define: { 'import.meta.url': '__tscniModuleUrl' },
      banner: { js: `var __tscniModuleUrl=require('url').pathToFileURL(__filename).href;` },
      plugins: [nativeShim],
      logLevel: 'warning',
      write: false
    }).then((r) => {
      // A lazily imported builtin (e.g. child_process for IPAM delegation)
      // stays import() in CommonJS output; run.cjs compiles the bundle with
      // vm.Script, which has no dynamic-import loader, so make it a require.
      const text = r.outputFiles[0].text.replace(/import\("(node:[a-z_/]+)"\)/g, 'Promise.resolve(require("$1"))')
      writeFileSync(join(outDir, `${name}.cjs.tmp`), text)
      renameSync(join(outDir, `${name}.cjs.tmp`), join(outDir, `${name}.cjs`))
    })
    if (PLUGINS.includes(name)) built.push(name)
  }
  return built
}

/**
 * Compiles the native client into outDir/client with the system C compiler
 * ($CC, else cc). Returns its path, or undefined with the reason when there
 * is no compiler or it fails.
 */
export function buildClient (outDir = join(root, 'build')) {
  const cc = process.env.CC || 'cc'
  const out = join(outDir, 'client')
  const r = spawnSync(cc, ['-O2', '-Wall', '-o', `${out}.tmp`, join(root, 'client', 'tscni-client.c')], { encoding: 'utf8' })
  if (r.error !== undefined || r.status !== 0) {
    return { why: r.error !== undefined ? `no C compiler (${cc}: ${r.error.code ?? r.error.message})` : `${cc} failed: ${(r.stderr || '').trim().split('\n')[0]}` }
  }
  renameSync(`${out}.tmp`, out)
  return { path: out }
}

/** What the client execs without an agent: the node binary and run.cjs, one a line (DIR/.tscni/fallback). */
export function fallbackText (buildDir, nodePath = process.execPath) {
  return `${nodePath}\n${join(buildDir, 'run.cjs')}\n`
}

/** Writes a file through a temporary name and a rename (a plugin being exec'd meanwhile sees old or new). */
export function writeAtomic (file, data, mode) {
  writeFileSync(`${file}.tmp`, data, { mode })
  chmodSync(`${file}.tmp`, mode)
  renameSync(`${file}.tmp`, file)
}

/**
 * The launcher: a marker line (recognised by our CNI layer for in-process
 * IPAM), NODE_EXTRA_CA_CERTS dropped (it makes node load a CA bundle at start:
 * 26 ms became 105 ms here), node by absolute path, run.cjs with the code cache.
 */
export function launcherText (name, buildDir, nodePath = process.execPath) {
  return `#!/bin/sh\n# tscni-plugin: ${name}\nunset NODE_EXTRA_CA_CERTS\nexec ${nodePath} ${join(buildDir, 'run.cjs')} ${name} "$@"\n`
}

/**
 * A launcher of a bundle that is not a plugin (no marker). Its node runs with
 * V8's young generation capped at 4 MiB semi-spaces (TOOL_NODE_FLAGS): the
 * long-lived agent allocates per request and, uncapped, V8 grows the young
 * generation to 16 MiB semi-spaces over the first thousands of requests (its
 * RSS grew ~30 MiB between the 1,000th and 10,000th request; capped, < 1 MiB).
 */
export function toolLauncherText (name, buildDir, nodePath = process.execPath) {
  return `#!/bin/sh\nunset NODE_EXTRA_CA_CERTS\nexec ${nodePath} ${TOOL_NODE_FLAGS} ${join(buildDir, 'run.cjs')} ${name} "$@"\n`
}
export const TOOL_NODE_FLAGS = '--max-semi-space-size=4'

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const built = await buildPlugins()
  const bin = join(root, 'bin')
  mkdirSync(join(bin, '.tscni'), { recursive: true })
  const client = built.length > 0 ? buildClient() : { why: 'no plugin' }
  writeAtomic(join(bin, '.tscni', 'fallback'), fallbackText(join(root, 'build')), 0o644)
  for (const name of built) {
    const file = join(bin, name)
    if (client.path !== undefined) {
      copyFileSync(client.path, `${file}.tmp`)
      chmodSync(`${file}.tmp`, 0o755)
      renameSync(`${file}.tmp`, file)
    } else {
      writeAtomic(file, launcherText(name, join(root, 'build')), 0o755)
    }
  }
  writeAtomic(join(bin, 'tscni'), toolLauncherText('tscni', join(root, 'build')), 0o755)
  console.log(`built ${built.map(n => `bin/${n}`).join(', ') || 'no plugin yet'} (${client.path !== undefined ? 'native client' : `Node launchers: ${client.why}`}), bin/tscni`)
}
