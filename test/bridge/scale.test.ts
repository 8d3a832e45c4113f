// Many containers on one bridge: 50 ADDs then 50 DELs leave the node
// namespace as it was (links, addresses, routes, IP files), and an ADD's
// netlink traffic does not grow with the number of ports (no dumps of every
// link or address of the host), measured with strace on the 1st and 50th ADD.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  OUR_BRIDGE, bridgeConfig, hasStrace, hostVeths, ipFiles, link, makeNamespace, makeTempDir, nodeSnapshot, nsPath, runPlugin, skipReason, straceWrapper
} from '../helpers/bridge.js'

const skip = skipReason() ?? (hasStrace ? undefined : 'strace is not installed')
if (skip !== undefined) t.plan(0, skip)

const N = 50

interface Traffic { sends: number, received: number }

/** Netlink sendmsg count and recvmsg bytes of one plugin run (strace wraps the plugin inside the node namespace). */
function traced (dir: string, name: string, run: (wrapper: string) => void): Traffic {
  const [wrapper, log] = straceWrapper(dir, name, '-e trace=sendmsg,recvmsg')
  run(wrapper)
  let sends = 0; let received = 0
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    // Only netlink sockets: their msghdr names AF_NETLINK.
    if (!line.includes('AF_NETLINK')) continue
    const m = /= (\d+)$/.exec(line)
    if (line.includes('sendmsg(')) sends++
    else if (line.includes('recvmsg(') && m !== null) received += Number(m[1])
  }
  return { sends, received }
}

t.test(`${N} ADDs then DELs on one bridge`, async t => {
  const node = makeNamespace(t, 'scale-node')
  const pod = makeNamespace(t, 'scale-pod')
  const dataDir = makeTempDir(t, 'scale')
  const conf = bridgeConfig({ bridge: 'tbr0', name: 'snet', dataDir, subnet: '10.80.0.0/16', extra: { isGateway: true } })
  const run = (command: string, i: number, plugin?: string): ReturnType<typeof runPlugin> =>
    runPlugin({ node, command, containerId: `c${i}`, netns: nsPath(pod), ifname: `eth${i}`, config: conf, ...(plugin !== undefined ? { plugin } : {}) })

  // The bridge and its gateway address stay by design: create them first.
  t.equal(run('ADD', 0).code, 0)
  t.equal(run('DEL', 0).code, 0)
  const before = nodeSnapshot(node)
  t.ok(link(node, 'tbr0'), 'bridge in place')

  const dir = makeTempDir(t, 'strace')
  let first: Traffic | undefined
  let last: Traffic | undefined
  for (let i = 1; i <= N; i++) {
    let r: ReturnType<typeof runPlugin> | undefined
    const go = (plugin?: string): void => { r = run('ADD', i, plugin) }
    if (i === 1) first = traced(dir, 'first', go)
    else if (i === N) last = traced(dir, 'last', go)
    else go()
    if (r!.code !== 0) { t.fail(`ADD ${i}: ${r!.stdout} ${r!.stderr}`); break }
  }
  t.equal(hostVeths(node).length, N, `${N} ports on the bridge`)
  t.equal(ipFiles(dataDir, 'snet').length, N, `${N} reservations`)
  t.ok(first !== undefined && first.sends > 0, `the first ADD sent ${first?.sends} netlink requests`)
  t.equal(last?.sends, first?.sends, 'the same number of netlink requests for the 1st and the 50th port')
  // Allow a little: replies carry counters and names of varying length, not more objects.
  t.ok(last!.received <= first!.received * 1.1 + 512, `netlink bytes received do not grow with the ports (1st ${first!.received}, ${N}th ${last!.received})`)

  for (let i = 1; i <= N; i++) {
    const r = run('DEL', i)
    if (r.code !== 0) { t.fail(`DEL ${i}: ${r.stdout}`); break }
  }
  t.same(nodeSnapshot(node), before, 'the node namespace is as before (links, addresses, routes)')
  t.same(ipFiles(dataDir, 'snet'), [], 'no IP file left')
  t.same(hostVeths(node), [])
})

t.test('parallel ADDs race to create the bridge and share the IPAM store', async t => {
  const { spawn } = await import('node:child_process')
  const node = makeNamespace(t, 'par-node')
  const pod = makeNamespace(t, 'par-pod')
  const dataDir = makeTempDir(t, 'par')
  const conf = JSON.stringify(bridgeConfig({ bridge: 'tbr0', name: 'pnet', dataDir, subnet: '10.81.0.0/24', extra: { isGateway: true } }))
  const one = (i: number): Promise<{ code: number, out: string }> => new Promise(resolve => {
    const env = { PATH: process.env.PATH ?? '', CNI_COMMAND: 'ADD', CNI_CONTAINERID: `p${i}`, CNI_NETNS: nsPath(pod), CNI_IFNAME: `eth${i}`, CNI_PATH: join(OUR_BRIDGE, '..') }
    const child = spawn('ip', ['netns', 'exec', node, OUR_BRIDGE], { env })
    let out = ''
    child.stdout.on('data', d => { out += String(d) })
    child.on('close', code => { resolve({ code: code ?? -1, out }) })
    child.stdin.end(conf)
  })
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => one(i)))
  t.same(results.map(r => r.code), Array(8).fill(0), `all 8 ADDs succeed${results.some(r => r.code !== 0) ? ': ' + results.map(r => r.out).join(' ') : ''}`)
  const ips = results.map(r => JSON.parse(r.out).ips[0].address).sort()
  t.equal(new Set(ips).size, 8, 'eight distinct addresses')
  t.equal(hostVeths(node).length, 8)
  t.ok(hostVeths(node).every(l => l.master === 'tbr0'))
  t.equal(ipFiles(dataDir, 'pnet').length, 8)
})
