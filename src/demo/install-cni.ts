// `npm run install-cni -- [DIR]`: installs our CNI plugins into a plugin
// directory (default /opt/cni/bin) the way a container runtime expects them:
// one executable per plugin, named after its `type`.
//
// A runtime execs plugins with an environment of its own choosing (often a
// minimal PATH) and a checkout may be moved or deleted later, so nothing the
// launchers need may live outside DIR except the node binary itself:
// - DIR/.tscni/<version>/ holds a self-contained copy of what `npm run build`
//   made in build/ (scripts/build-bin.mjs): one esbuild bundle per plugin,
//   <name>.cjs, and native/ with the two addons the bundles dlopen from beside
//   themselves (the `netlink` package's prebuilt addon and koffi's).
//   <version> carries a hash of that content, so a reinstall of changed code
//   never rewrites files a running plugin uses.
// - DIR/<plugin> is a /bin/sh launcher that execs the absolute node binary on
//   the copy, found relative to the launcher itself (then at the install-time
//   path as a fallback, e.g. when the launcher is reached through a symlink).
//   Its second line is the marker `# tscni-plugin: <name>`, which the CNI
//   layer looks for in a plugin's first 256 bytes to recognise our own
//   host-local and run it in-process.
// Launchers and the copy are written to temporary names and renamed into
// place, so a runtime exec'ing a plugin meanwhile sees the old or the new one.
import { createHash } from 'node:crypto'
import {
  chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync,
  writeFileSync
} from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const DEFAULT_PLUGIN_DIR = '/opt/cni/bin'
/** The marker a launcher carries in its first 256 bytes. */
export const PLUGIN_MARKER = '# tscni-plugin: '
const RUNTIME_DIR = '.tscni'
const BUILD_DIR = 'build'
/** Written last into a copy: a copy without it is incomplete. */
const COMPLETE = '.complete'

export interface InstallOptions {
  /** Plugin directory to install into; created if missing. */
  dir: string
  /** The built checkout (package.json, build/); this file's own by default. */
  sourceRoot?: string
  /** The node binary the launchers exec; this process's by default. */
  nodePath?: string
  /** Plugins to install; every build/<name>.cjs by default. */
  plugins?: string[]
}

export interface InstallReport {
  dir: string
  version: string
  /** DIR/.tscni/<version> */
  runtimeDir: string
  plugins: string[]
  /** Number of files in the copy. */
  files: number
  /** False when an identical copy was already installed. */
  copied: boolean
  /** Older copies removed (all but the one the replaced launchers used). */
  removed: string[]
}

/** Files of the copy: path relative to the copy's root → absolute source path. */
type FileList = Map<string, string>

/** The checkout this module was compiled into (dist/demo/ → ../..). */
export function defaultSourceRoot (): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
}

export function installCni (options: InstallOptions): InstallReport {
  const dir = resolve(options.dir)
  const root = resolve(options.sourceRoot ?? defaultSourceRoot())
  const nodePath = options.nodePath ?? process.execPath
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }
  const plugins = options.plugins ?? listPlugins(root)
  if (plugins.length === 0) throw new Error(`no plugin bundles under ${join(root, BUILD_DIR)}: run \`npm run build\` first`)
  for (const name of plugins) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`invalid plugin name ${JSON.stringify(name)}`)
    if (!existsSync(bundlePath(root, name))) throw new Error(`plugin ${name} is not built (${bundlePath(root, name)} missing): run \`npm run build\` first`)
  }

  const files: FileList = new Map()
  for (const name of plugins) files.set(`${name}.cjs`, bundlePath(root, name))
  // The loader that compiles a bundle with its V8 code cache (scripts/bundle/run.cjs).
  files.set('run.cjs', join(root, BUILD_DIR, 'run.cjs'))
  for (const entry of readdirSync(join(root, BUILD_DIR, 'native'))) {
    if (entry.endsWith('.node')) files.set(`native/${entry}`, join(root, BUILD_DIR, 'native', entry))
  }
  const version = `${pkg.version ?? '0.0.0'}-${contentHash(files)}`

  mkdirSync(join(dir, RUNTIME_DIR), { recursive: true, mode: 0o755 })
  const runtimeDir = join(dir, RUNTIME_DIR, version)
  let copied = false
  if (!existsSync(join(runtimeDir, COMPLETE))) {
    const staging = join(dir, RUNTIME_DIR, `.staging-${process.pid}-${Date.now()}`)
    try {
      for (const [rel, source] of files) {
        const target = join(staging, rel)
        mkdirSync(dirname(target), { recursive: true, mode: 0o755 })
        copyFileSync(source, target)
      }
      writeFileSync(join(staging, COMPLETE), `${version}\n`)
      rmSync(runtimeDir, { recursive: true, force: true })
      renameSync(staging, runtimeDir)
    } finally {
      rmSync(staging, { recursive: true, force: true })
    }
    copied = true
  }

  // Versions the launchers we are about to replace point at: keep one of
  // them so a plugin started a moment ago can still load its lazy modules.
  const previous = new Set<string>()
  for (const name of plugins) {
    const v = installedVersion(join(dir, name))
    if (v !== undefined && v !== version) previous.add(v)
  }
  for (const name of plugins) {
    const file = join(dir, name)
    const temp = `${file}.tscni-${process.pid}`
    writeFileSync(temp, launcher(name, version, dir, nodePath), { mode: 0o755 })
    chmodSync(temp, 0o755)
    renameSync(temp, file)
  }
  const removed: string[] = []
  for (const entry of readdirSync(join(dir, RUNTIME_DIR))) {
    if (entry === version || previous.has(entry) || entry.startsWith('.staging-')) continue
    if (stillReferenced(dir, entry)) continue
    rmSync(join(dir, RUNTIME_DIR, entry), { recursive: true, force: true })
    removed.push(entry)
  }
  return { dir, version, runtimeDir, plugins, files: files.size, copied, removed }
}

/** The launcher script of one plugin. */
export function launcher (name: string, version: string, installDir: string, nodePath: string): string {
  const entry = `${RUNTIME_DIR}/${version}/run.cjs`
  return [
    '#!/bin/sh',
    `${PLUGIN_MARKER}${name}`,
    `# Installed by tscni install-cni (${version}). Runs the copy in ${RUNTIME_DIR}/ beside this file.`,
    'case $0 in */*) here=${0%/*} ;; *) here=. ;; esac',
    `[ -f "$here/${entry}" ] || here=${shellQuote(installDir)}`,
    // Start-up options meant for other node programs must not reach a plugin.
    'unset NODE_OPTIONS NODE_EXTRA_CA_CERTS',
    `exec ${shellQuote(nodePath)} "$here/${entry}" ${name} "$@"`,
    ''
  ].join('\n')
}

/** Every plugin bundle in build/: build/<name>.cjs. */
export function listPlugins (root: string): string[] {
  const base = join(root, BUILD_DIR)
  if (!existsSync(base)) return []
  return readdirSync(base)
    .filter(e => e.endsWith('.cjs') && e !== 'run.cjs')
    .map(e => e.slice(0, -'.cjs'.length))
    .sort()
}

function bundlePath (root: string, name: string): string { return join(root, BUILD_DIR, `${name}.cjs`) }

/** The version a launcher runs, read from its marker block; undefined when it is not ours. */
function installedVersion (file: string): string | undefined {
  try {
    const head = readFileSync(file).subarray(0, 512).toString('utf8')
    if (!head.includes(PLUGIN_MARKER)) return undefined
    return /install-cni \(([^)]+)\)/.exec(head)?.[1]
  } catch {
    return undefined
  }
}

/** True when some launcher in dir (for a plugin we did not reinstall now) still runs this version. */
function stillReferenced (dir: string, version: string): boolean {
  for (const entry of readdirSync(dir)) {
    if (entry === RUNTIME_DIR) continue
    if (installedVersion(join(dir, entry)) === version) return true
  }
  return false
}

function contentHash (files: FileList): string {
  const hash = createHash('sha256')
  for (const rel of [...files.keys()].sort()) {
    hash.update(rel).update('\0').update(readFileSync(files.get(rel) as string)).update('\0')
  }
  return hash.digest('hex').slice(0, 12)
}

function shellQuote (s: string): string {
  return /^[A-Za-z0-9_./+-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`
}

function main (argv: string[]): number {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(`usage: npm run install-cni -- [DIR]\n\nInstalls the tscni CNI plugins into DIR (default ${DEFAULT_PLUGIN_DIR}).\n`)
    return 0
  }
  const operands = argv.filter(a => !a.startsWith('-'))
  if (operands.length > 1 || operands.length !== argv.length) {
    process.stderr.write('usage: npm run install-cni -- [DIR]\n')
    return 2
  }
  const dir = operands[0] ?? DEFAULT_PLUGIN_DIR
  try {
    const report = installCni({ dir })
    process.stdout.write(
      `installed ${report.plugins.join(', ')} into ${report.dir}\n` +
      `  runtime copy: ${report.runtimeDir} (${report.files} files${report.copied ? '' : ', already present'})\n` +
      `  node: ${process.execPath}\n` +
      (report.removed.length > 0 ? `  removed old copies: ${report.removed.join(', ')}\n` : '')
    )
    return 0
  } catch (err) {
    process.stderr.write(`install-cni: ${(err as Error).message}\n`)
    return 1
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2))
}
