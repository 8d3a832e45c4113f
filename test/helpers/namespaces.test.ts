// Every network namespace a test, bench or example of ours makes under test
// is made by test/helpers/netns.ts's createNamespace, which writes the
// kernel's sysctl defaults into it: a namespace made any other way inherits
// the root namespace's IPv4 settings (net.ipv4.ip_forward=1 on a Kubernetes
// node or Docker host) and its test's result depends on the machine.
// Part one reads the test sources for other ways in; part two (root) checks
// that a namespace createNamespace made holds the kernel's defaults, read
// back with `sysctl` inside it as an independent reader.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KERNEL_DEFAULTS } from './kernel-defaults.js'
import { createNamespace, rootSkip } from './netns.js'
import { NetNamespace } from '../../src/netlink/netns.js'

const testDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const self = fileURLToPath(import.meta.url)

function sources (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [])
}

// `ip netns add`, NetNamespace.create and `unshare --net`/`-n`: the ways to make one.
const WAYS = [/NetNamespace\.create\(/, /['"]netns['"],\s*['"]add['"]/, /\bip netns add\b/, /unshare[^\n]*(--net\b|['"]-n['"])/]

t.test('no test source makes a network namespace except through createNamespace', async t => {
  const offenders: string[] = []
  for (const file of sources(testDir)) {
    if (file === self || file === join(testDir, 'helpers', 'netns.ts')) continue
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (/^\s*(\/\/|\/\*|\*)/.test(line)) return // comments
      if (WAYS.some(re => re.test(line))) offenders.push(`${relative(testDir, file)}:${i + 1}: ${line.trim()}`)
    })
  }
  t.same(offenders, [], 'namespaces made another way (use createNamespace from test/helpers/netns.ts)')
})

t.test('a namespace from createNamespace holds the kernel defaults', { skip: rootSkip }, async t => {
  const name = `tscni-defaults-${process.pid}`
  createNamespace(name).close()
  t.teardown(() => { NetNamespace.delete(name) })
  for (const [key, value] of KERNEL_DEFAULTS) {
    const got = execFileSync('ip', ['netns', 'exec', name, 'sysctl', '-n', key.replaceAll('/', '.')], { encoding: 'utf8' }).trim()
    t.equal(got, value, key)
  }
})
