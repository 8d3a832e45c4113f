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
// - DIR/<plugin> is the native client (build/client, client/tscni-client.c),
//   one copy per plugin name: it asks the agent and, without one, execs the
//   node binary on the copy's run.cjs, named in DIR/.tscni/fallback relative
//   to that directory (so a copied install directory keeps working). Where
//   no client was built (no C compiler), DIR/<plugin> is a /bin/sh launcher
//   of that same Node path, found relative to the launcher itself (then at
//   the install-time path, e.g. when reached through a symlink). Both carry
//   the marker `# tscni-plugin: <name>` (the client: `*`, its own name), by
//   which the CNI layer recognises our host-local and runs it in process.
// - DIR/.tscni/tscni runs the operator CLI of the current copy (`tscni agent`).
// - With --agent, a systemd unit for the agent (tscni-agent.service).
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
  /** Plugins to install; every plugin bundle in build/ by default. */
  plugins?: string[]
  /** Install /bin/sh launchers even when the native client was built. */
  noClient?: boolean
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
  /** The plugins are the native client (else /bin/sh launchers). */
  client: boolean
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
  for (const tool of TOOLS) if (existsSync(bundlePath(root, tool))) files.set(`${tool}.cjs`, bundlePath(root, tool))
  const clientPath = join(root, BUILD_DIR, 'client')
  const client = options.noClient !== true && existsSync(clientPath)
  if (client) files.set('client', clientPath)
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
  for (const file of [...plugins.map(name => join(dir, name)), fallbackFile(dir)]) {
    const v = installedVersion(file)
    if (v !== undefined && v !== version) previous.add(v)
  }
  const put = (file: string, write: (temp: string) => void): void => {
    const temp = `${file}.tscni-${process.pid}`
    write(temp)
    chmodSync(temp, 0o755)
    renameSync(temp, file)
  }
  // The Node path first: a client installed a moment later finds it.
  put(fallbackFile(dir), temp => { writeFileSync(temp, `${nodePath}\n${version}/run.cjs\n`) })
  put(join(dir, RUNTIME_DIR, 'tscni'), temp => { writeFileSync(temp, toolLauncher('tscni', version, dir, nodePath)) })
  for (const name of plugins) {
    put(join(dir, name), temp => {
      if (client) copyFileSync(join(runtimeDir, 'client'), temp)
      else writeFileSync(temp, launcher(name, version, dir, nodePath))
    })
  }
  const removed: string[] = []
  for (const entry of readdirSync(join(dir, RUNTIME_DIR))) {
    if (entry === version || previous.has(entry) || entry.startsWith('.staging-') || entry === 'fallback' || entry === 'tscni') continue
    if (stillReferenced(dir, entry)) continue
    rmSync(join(dir, RUNTIME_DIR, entry), { recursive: true, force: true })
    removed.push(entry)
  }
  return { dir, version, runtimeDir, plugins, files: files.size, copied, removed, client }
}

/** DIR/.tscni/fallback: what the client execs without an agent (node, then run.cjs relative to DIR/.tscni). */
function fallbackFile (dir: string): string { return join(dir, RUNTIME_DIR, 'fallback') }

/** DIR/.tscni/tscni: the CLI of the copy (the agent's ExecStart). */
export function toolLauncher (name: string, version: string, installDir: string, nodePath: string): string {
  const entry = `${version}/run.cjs`
  return [
    '#!/bin/sh',
    `# Installed by tscni install-cni (${version}). Runs the copy beside this file.`,
    'case $0 in */*) here=${0%/*} ;; *) here=. ;; esac',
    `[ -f "$here/${entry}" ] || here=${shellQuote(join(installDir, RUNTIME_DIR))}`,
    'unset NODE_OPTIONS NODE_EXTRA_CA_CERTS',
    // As bin/tscni (scripts/build-bin.mjs TOOL_NODE_FLAGS): a small young generation keeps the agent's RSS flat.
    `exec ${shellQuote(nodePath)} --max-semi-space-size=4 "$here/${entry}" ${name} "$@"`,
    ''
  ].join('\n')
}

export const AGENT_UNIT = 'tscni-agent.service'

/**
 * The systemd unit of the agent: the host's namespaces (no Private*,
 * Protect*), restarted always, stopped with SIGTERM (it finishes what is in
 * flight and removes its socket).
 */
export function agentUnit (installDir: string, socket = '/run/tscni/agent.sock'): string {
  return [
    '[Unit]',
    'Description=tscni agent: serves the bridge, loopback and host-local CNI plugins warm',
    `Documentation=file://${join(installDir, RUNTIME_DIR)}`,
    'Before=containerd.service crio.service kubelet.service',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${join(installDir, RUNTIME_DIR, 'tscni')} agent --socket ${socket}`,
    'Restart=always',
    'RestartSec=1',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=30',
    'UnsetEnvironment=NODE_OPTIONS NODE_EXTRA_CA_CERTS',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    ''
  ].join('\n')
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

/** Bundles in build/ that are not plugins. */
const TOOLS = ['tscni']

/** Every plugin bundle in build/: build/<name>.cjs. */
export function listPlugins (root: string): string[] {
  const base = join(root, BUILD_DIR)
  if (!existsSync(base)) return []
  return readdirSync(base)
    .filter(e => e.endsWith('.cjs') && e !== 'run.cjs' && !TOOLS.includes(e.slice(0, -'.cjs'.length)))
    .map(e => e.slice(0, -'.cjs'.length))
    .sort()
}

function bundlePath (root: string, name: string): string { return join(root, BUILD_DIR, `${name}.cjs`) }

/** The version a launcher or the fallback file runs; undefined when it is not ours (or a client, which names none). */
function installedVersion (file: string): string | undefined {
  try {
    const head = readFileSync(file).subarray(0, 512).toString('utf8')
    if (file.endsWith(`${RUNTIME_DIR}/fallback`)) return /\n([^/\n]+)\/run\.cjs/.exec(head)?.[1]
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
  return installedVersion(fallbackFile(dir)) === version
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

const USAGE = 'usage: npm run install-cni -- [DIR] [--agent [--unit-dir UNITDIR]]'

function main (argv: string[]): number {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(`${USAGE}\n\nInstalls the tscni CNI plugins into DIR (default ${DEFAULT_PLUGIN_DIR}).\n` +
      `--agent also writes the agent's systemd unit ${AGENT_UNIT} into UNITDIR (default /etc/systemd/system).\n`)
    return 0
  }
  const args = [...argv]
  const agent = args.includes('--agent')
  const unitAt = args.indexOf('--unit-dir')
  const unitDir = unitAt >= 0 ? args[unitAt + 1] : '/etc/systemd/system'
  if (unitAt >= 0) args.splice(unitAt, 2)
  const operands = args.filter(a => a !== '--agent')
  if (operands.length > 1 || operands.some(a => a.startsWith('-')) || unitDir === undefined || (unitAt >= 0 && !agent)) {
    process.stderr.write(`${USAGE}\n`)
    return 2
  }
  const dir = operands[0] ?? DEFAULT_PLUGIN_DIR
  try {
    const report = installCni({ dir })
    process.stdout.write(
      `installed ${report.plugins.join(', ')} into ${report.dir} (${report.client ? 'native clients: they use the agent when it runs' : 'Node launchers: no C compiler at build time'})\n` +
      `  runtime copy: ${report.runtimeDir} (${report.files} files${report.copied ? '' : ', already present'})\n` +
      `  node: ${process.execPath}\n` +
      (report.removed.length > 0 ? `  removed old copies: ${report.removed.join(', ')}\n` : '')
    )
    if (agent) {
      mkdirSync(unitDir, { recursive: true })
      const unit = join(unitDir, AGENT_UNIT)
      writeFileSync(`${unit}.tmp`, agentUnit(report.dir))
      renameSync(`${unit}.tmp`, unit)
      process.stdout.write(`  agent unit: ${unit}\n  enable it: systemctl daemon-reload && systemctl enable --now ${AGENT_UNIT}\n`)
    }
    return 0
  } catch (err) {
    process.stderr.write(`install-cni: ${(err as Error).message}\n`)
    return 1
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2))
}
