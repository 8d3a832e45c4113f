// Start-up budget: every plugin run loads the skel, so its static import
// graph must not reach zod (~50 ms), koffi, the netlink socket or
// child_process. Walks the real import statements of src/cni/skel.ts.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../src')

/** Runtime (non-type) imports of a module, resolved to .ts files or bare names. */
function runtimeImports (file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const out: string[] = []
  const re = /^\s*(import|export)\s+(type\s+)?([^'"]*?)\s*from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[2] !== undefined) continue // import type / export type
    const spec = m[4] ?? m[5]!
    // `import { type A, type B }`: only types
    const names = m[3] ?? ''
    if (/^\{[^}]*\}$/.test(names.trim()) && names.replace(/[{}\s]/g, '').split(',').filter(Boolean).every(n => n.startsWith('type'))) continue
    out.push(spec.startsWith('.') ? join(dirname(file), spec.replace(/\.js$/, '.ts')) : spec)
  }
  return out
}

function graph (entry: string): Set<string> {
  const seen = new Set<string>()
  const todo = [entry]
  while (todo.length > 0) {
    const f = todo.pop()!
    if (seen.has(f)) continue
    seen.add(f)
    if (f.endsWith('.ts')) todo.push(...runtimeImports(f))
  }
  return seen
}

t.test('the skel loads no heavy module', async t => {
  const g = graph(join(root, 'cni/skel.ts'))
  const names = [...g].map(f => f.startsWith(root) ? f.slice(root.length + 1) : f).sort()
  t.comment(names.join(' '))
  for (const bad of ['zod', 'zod/mini', 'koffi', 'netlink', 'node:child_process', 'child_process', 'netlink/libc.ts', 'netlink/socket.ts', 'netlink/netns.ts', 'cni/invoke.ts', 'cni/args.ts']) {
    t.notOk(names.includes(bad), `skel does not load ${bad}`)
  }
  t.ok(names.includes('cni/result.ts'), 'the walk follows imports')
  t.ok(names.length <= 12, `small graph (${names.length} modules)`)
})

t.test('config.ts uses zod for types only', async t => {
  const g = graph(join(root, 'cni/config.ts'))
  t.notOk([...g].some(f => f.startsWith('zod')), 'no runtime zod import')
  t.match(readFileSync(join(root, 'cni/config.ts'), 'utf8'), /validateWithSchema/)
})
