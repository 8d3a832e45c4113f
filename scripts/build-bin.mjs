#!/usr/bin/env node
// Builds the plugin executables:
//   build/<plugin>.cjs   one esbuild bundle per plugin (CommonJS loads fastest)
//   build/native/*.node  the two native addons, dlopened directly
//   bin/<plugin>         the launcher a runtime execs
// Start-up is the largest cost of a plugin run, so the bundle avoids module
// resolution, the packages' addon probing and zod on the happy path.
import { build } from 'esbuild'
import { chmodSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
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
  copyFileSync(require.resolve('netlink/prebuilds/linux-x64/node.napi.node'), join(outDir, 'native', 'netlink.node'))
  const koffiPkg = dirname(require.resolve('@koromix/koffi-linux-x64/package.json'))
  copyFileSync(join(koffiPkg, 'linux_x64', 'koffi.node'), join(outDir, 'native', 'koffi.node'))
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
      logLevel: 'warning'
    })
    built.push(name)
  }
  return built
}

/** The launcher: a marker line (recognised by our CNI layer for in-process IPAM), NODE_EXTRA_CA_CERTS dropped (~40 ms), node by absolute path. */
export function launcherText (name, bundlePath, nodePath = process.execPath) {
  return `#!/bin/sh\n# tscni-plugin: ${name}\nunset NODE_EXTRA_CA_CERTS\nexec ${nodePath} ${bundlePath} "$@"\n`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const built = await buildPlugins()
  mkdirSync(join(root, 'bin'), { recursive: true })
  for (const name of built) {
    const file = join(root, 'bin', name)
    writeFileSync(file, launcherText(name, join(root, 'build', `${name}.cjs`)))
    chmodSync(file, 0o755)
  }
  console.log(`built ${built.map(n => `bin/${n}`).join(', ') || 'no plugin yet'}`)
}
