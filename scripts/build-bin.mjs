#!/usr/bin/env node
// Builds the plugin executables:
//   build/<plugin>.cjs   one esbuild bundle per plugin (CommonJS loads fastest)
//   build/native/*.node  the two native addons, dlopened directly
//   bin/<plugin>         the launcher a runtime execs
// Start-up is the largest cost of a plugin run, so the bundle avoids module
// resolution, the packages' addon probing and zod on the happy path.
import { build } from 'esbuild'
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(root, 'package.json'))
export const PLUGINS = ['loopback', 'host-local', 'bridge']

const nativeShim = {
  name: 'tscni-native',
  setup (b) {
    b.onResolve({ filter: /(^|\/)native\.js$/ }, (args) =>
      args.importer.includes(`${join('src', 'netlink')}`) ? { path: join(root, 'scripts/bundle/native.cjs') } : undefined)
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
  for (const name of PLUGINS) {
    const entry = join(root, 'src', 'plugins', name, 'main.ts')
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
    built.push(name)
  }
  return built
}

/**
 * The launcher: a marker line (recognised by our CNI layer for in-process
 * IPAM), NODE_EXTRA_CA_CERTS dropped (it makes node load a CA bundle at start:
 * 26 ms became 105 ms here), node by absolute path, run.cjs with the code cache.
 */
export function launcherText (name, buildDir, nodePath = process.execPath) {
  return `#!/bin/sh\n# tscni-plugin: ${name}\nunset NODE_EXTRA_CA_CERTS\nexec ${nodePath} ${join(buildDir, 'run.cjs')} ${name} "$@"\n`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const built = await buildPlugins()
  mkdirSync(join(root, 'bin'), { recursive: true })
  for (const name of built) {
    const file = join(root, 'bin', name)
    writeFileSync(file, launcherText(name, join(root, 'build')))
    chmodSync(file, 0o755)
  }
  console.log(`built ${built.map(n => `bin/${n}`).join(', ') || 'no plugin yet'}`)
}
