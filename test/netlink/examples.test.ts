// examples/ as runnable documentation (root): the README's library example is
// examples/readme-example.ts word for word and runs to completion in
// throwaway namespaces; examples/ip.ts prints what `ip -j` prints for a
// namespace this test fills (iproute2 is the oracle). Both run from the build
// (dist/examples, compiled by `npm run build` from examples/tsconfig.json).
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { rootSkip, withNamespaces } from '../helpers/netns.js'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const built = (name: string): string => `${repo}dist/examples/${name}.js`
const skip = rootSkip !== false ? rootSkip : existsSync(built('ip')) ? false : 'examples are not built: run `npm run build`'

t.test('the README shows examples/readme-example.ts as it is', async t => {
  const readme = readFileSync(`${repo}README.md`, 'utf8')
  const example = readFileSync(`${repo}examples/readme-example.ts`, 'utf8')
  t.ok(readme.includes('```ts\n' + example + '```\n'), 'README.md holds the file in a ```ts block, unchanged')
})

t.test('the README example runs in throwaway namespaces and removes them', { skip }, async t => {
  const name = `tscni-readme-${process.pid}`
  t.teardown(() => {
    for (const n of [name, `${name}-peer`]) if (existsSync(`/var/run/netns/${n}`)) execFileSync('ip', ['netns', 'del', n])
  })
  const out = execFileSync(process.execPath, [built('readme-example'), name], { encoding: 'utf8', timeout: 60_000 })
  const lines = out.trim().split('\n')
  t.equal(lines[0], "[ '10.9.0.0/16 via 10.1.0.254 table 1000' ]", 'the route it added, listed')
  t.match(lines[1], new RegExp(`^EEXIST RTM_NEWLINK bridge br0 in /var/run/netns/${name}: EEXIST`), 'the duplicate bridge, as a typed error')
  t.equal(lines[2], 'conntrack entries of 10.1.0.2 deleted: 0')
  t.match(lines[3], /^ip_forward 0 \d+$/)
  t.same(readdirSync('/var/run/netns').filter(n => n.startsWith(name)), [], 'its namespaces are gone')
})

// Keys `ip -j` prints that the tool does not (the library does not decode them).
const NOT_PRINTED = new Set(['qdisc', 'linkmode', 'group'])

t.test('examples/ip.ts prints what ip -j prints', { skip }, async t => {
  const [a, b] = withNamespaces(t, 2)
  a!.sh(`sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip link set lo up
ip link add br0 type bridge
ip link add va type veth peer name vb
ip link add vc type veth peer name eth0 netns ${b!.name}
ip link set va master br0
ip link set br0 up; ip link set va up; ip link set vb up; ip link set vc up
ip link set vb alias 'the other end'
ip addr add 10.1.0.1/24 brd 10.1.0.255 dev br0
ip addr add 10.1.0.9/24 dev br0
ip addr add fd00:1::1/64 dev br0
ip addr add 10.2.0.1/24 dev vc label vc:1
ip addr add 10.3.0.1/24 dev vb noprefixroute
ip route add 10.9.0.0/16 via 10.1.0.254
ip route add default via 10.1.0.254 metric 100
ip route add 10.8.0.0/16 via 10.1.0.254 table 1000
ip route add 10.7.0.0/16 proto static scope link dev br0
ip route add blackhole 10.6.0.0/16
ip route add 10.5.0.0/16 nexthop via 10.1.0.254 dev br0 weight 2 nexthop via 10.1.0.253 dev br0
ip -6 route add fd00:9::/48 via fd00:1::fe metric 50
ip neigh add 10.1.0.7 lladdr 02:00:00:00:00:07 dev br0
ip -6 neigh add fd00:1::7 lladdr 02:00:00:00:00:08 dev br0 nud stale router
ip rule add pref 100 from 10.1.0.0/24 table 1000
ip rule add pref 110 fwmark 0x10/0xff table 200
ip -6 rule add pref 120 to fd00:9::/48 table 300`)
  const cases: string[][] = [
    ['link', 'show'], ['addr', 'show'], ['-4', 'addr', 'show'], ['-6', 'addr', 'show'],
    ['route', 'show'], ['route', 'show', 'table', 'all'], ['route', 'show', 'table', '1000'], ['-6', 'route', 'show'], ['-6', 'route', 'show', 'table', 'all'],
    ['neigh', 'show'], ['rule', 'show'], ['-6', 'rule', 'show']
  ]
  for (const args of cases) {
    const ours = JSON.parse(execFileSync(process.execPath, [built('ip'), '-n', a!.name, ...args], { encoding: 'utf8' })) as Array<Record<string, unknown>>
    const theirs = a!.ipJson<Array<Record<string, unknown>>>(...args)
    const what = `ip ${args.join(' ')}`
    t.equal(ours.length, theirs.length, `${what}: ${theirs.length} objects`)
    t.ok(ours.length > 0, `${what}: not empty`)
    // Field by field: what we print equals what ip prints; what ip prints and we do not is only what the library does not decode.
    t.same(ours, theirs.map(o => Object.fromEntries(Object.entries(o).filter(([k]) => !NOT_PRINTED.has(k)))), what)
  }
  t.throws(() => execFileSync(process.execPath, [built('ip'), '-n', a!.name, 'tunnel', 'show'], { stdio: 'pipe' }), /unknown object "tunnel"/)
})
