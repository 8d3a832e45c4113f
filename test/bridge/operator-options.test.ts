// Issue 12, items 1-4, root integration: mtu "auto" and MTU reconciliation,
// the bridge MAC that never flaps, IPv6 router advertisements off in the
// container (against a real router sending RAs), groupFwdMask. The plugin
// runs in a throwaway "node" namespace; the kernel is read back with
// `ip -j` and sysfs (addr_assign_type), never with our own decoders.
import t from 'tap'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import {
  addresses, hostVeths, ip, ipFiles, ipJson, link, makeNamespace, setupEnv, skipReason, sysctl, type Env
} from '../helpers/bridge.js'

const skip = skipReason()
if (skip !== undefined) t.plan(0, skip)

interface Teardown { teardown: (fn: () => void | Promise<void>) => void }

function addOK (t: Tap.Test, env: Env, conf: unknown, opts = {}): any {
  const r = env.run('ADD', conf, opts)
  t.equal(r.code, 0, `ADD succeeds${r.code !== 0 ? `: ${r.stdout} ${r.stderr}` : ''}`)
  return r.json
}

/** The kernel's addr_assign_type of a link (sysfs as `ip netns exec` mounts it): 1 random, 3 set by user space. */
function addrAssignType (ns: string, dev: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, 'cat', `/sys/class/net/${dev}/addr_assign_type`], { encoding: 'utf8' }).trim()
}

/** An uplink veth in the node namespace (peer in a namespace of its own), with an MTU and addresses. */
function uplink (t: Teardown, node: string, mtu: number): void {
  const far = makeNamespace(t, 'up-far')
  ip(node, 'link', 'add', 'uplink0', 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', 'uplink1', 'netns', far)
  ip(node, 'link', 'set', 'uplink0', 'up')
}

const ZERO = '00:00:00:00:00:00'

/** The RA tests' router is a python3 raw socket (node has no raw sockets). */
const raSkip: string | false = spawnSync('python3', ['-c', 'import socket, struct'], { stdio: 'ignore' }).status === 0 ? false : 'python3 is missing: it sends the router advertisements (scripts/ensure-test-deps.sh installs it)'

// --- 1. MTU -------------------------------------------------------------

t.test('mtu "auto": the IPv4 default route\'s interface, not lo (netavark#1381)', async t => {
  const env = setupEnv(t, 'mtua')
  uplink(t, env.node, 1400)
  ip(env.node, 'addr', 'add', '192.168.250.1/24', 'dev', 'uplink0')
  ip(env.node, 'link', 'set', 'lo', 'up')
  // The trap: a default route through lo, with a better metric.
  ip(env.node, 'route', 'add', 'default', 'dev', 'lo', 'metric', '1')
  ip(env.node, 'route', 'add', 'default', 'via', '192.168.250.254', 'dev', 'uplink0', 'metric', '100')
  t.equal(link(env.node, 'lo')?.mtu, 65536, 'lo has MTU 65536 (what picking it would give)')
  addOK(t, env, env.config({ mtu: 'auto' }))
  t.equal(link(env.node, 'tbr0')?.mtu, 1400, 'the bridge gets the uplink\'s MTU')
  t.equal(hostVeths(env.node)[0]?.mtu, 1400, 'the host veth too')
  t.equal(link(env.pod, 'eth0')?.mtu, 1400, 'and the container interface')
})

t.test('mtu "auto": IPv6 default route when there is no IPv4 one; host-scope routes skipped', async t => {
  const env = setupEnv(t, 'mtu6')
  uplink(t, env.node, 1380)
  ip(env.node, 'addr', 'add', 'fd50::1/64', 'dev', 'uplink0', 'nodad')
  // A host-scope IPv4 default route is no way out: skipped, so IPv6 decides.
  ip(env.node, 'route', 'add', 'default', 'dev', 'uplink0', 'scope', 'host')
  ip(env.node, '-6', 'route', 'add', 'default', 'via', 'fd50::fe', 'dev', 'uplink0')
  t.ok(ipJson(env.node, 'route', 'show', 'default').some((r: any) => r.scope === 'host'), 'the host-scope IPv4 default route is there')
  addOK(t, env, env.config({ mtu: 'auto' }))
  t.equal(link(env.node, 'tbr0')?.mtu, 1380)
  t.equal(link(env.pod, 'eth0')?.mtu, 1380)
})

t.test('mtu "auto" without a default route: 1500 and a log line', async t => {
  const env = setupEnv(t, 'mtun')
  const r = env.run('ADD', env.config({ mtu: 'auto' }))
  t.equal(r.code, 0, r.stdout)
  t.equal(link(env.node, 'tbr0')?.mtu, 1500)
  t.match(r.stderr, /mtu "auto": no default route leaves by an interface other than lo; using 1500/)
})

t.test('a configured MTU is applied to an existing bridge; CHECK reports a mismatch', async t => {
  const env = setupEnv(t, 'mtur')
  ip(env.node, 'link', 'add', 'tbr0', 'mtu', '1450', 'type', 'bridge')
  const conf = env.config({ mtu: 1400 })
  const res = addOK(t, env, conf)
  t.equal(link(env.node, 'tbr0')?.mtu, 1400, 'upstream leaves the existing bridge at 1450')
  // A later ADD with another MTU changes it again (podman#20009).
  addOK(t, env, env.config({ mtu: 1300 }), { containerId: 'ctr2', ifname: 'eth1' })
  t.equal(link(env.node, 'tbr0')?.mtu, 1300)

  const conf1300 = { ...env.config({ mtu: 1300 }), prevResult: res }
  const stale = env.run('CHECK', conf1300)
  t.equal(stale.code, 1, 'CHECK of the first container with mtu 1300: its interface still has 1400')
  t.match(stale.json?.msg, /Interface eth0 MTU 1400 doesn't match the configured MTU 1300/)
  ip(env.node, 'link', 'set', 'tbr0', 'mtu', '1400')
  const ok = env.run('CHECK', { ...conf, prevResult: res })
  t.equal(ok.code, 0, `CHECK with mtu 1400 passes${ok.code !== 0 ? `: ${ok.stdout}` : ''}`)
  ip(env.node, 'link', 'set', 'tbr0', 'mtu', '1350')
  const drift = env.run('CHECK', { ...conf, prevResult: res })
  t.equal(drift.code, 1)
  t.match(drift.json?.msg, /Bridge interface tbr0 MTU 1350 doesn't match the configured MTU 1400/)
})

// --- 2. The bridge MAC ---------------------------------------------------

t.test('a new bridge gets a MAC of its own, set by user space, in L2 mode too; it never flaps', async t => {
  const env = setupEnv(t, 'mac')
  const res = addOK(t, env, env.config({}, { l2: true }))
  const mac = link(env.node, 'tbr0')!.address
  t.equal(addrAssignType(env.node, 'tbr0'), '3', 'NET_ADDR_SET: the kernel keeps it (upstream L2: 1, follows the ports)')
  t.match(mac, /^[0-9a-f][26ae]:/, 'locally administered unicast')
  t.equal(res.interfaces[0].mac, mac)
  // A port with a lower MAC than any: an unpinned bridge would take it.
  ip(env.node, 'link', 'add', 'low0', 'address', '02:00:00:00:00:01', 'type', 'veth', 'peer', 'name', 'low1')
  ip(env.node, 'link', 'set', 'low0', 'master', 'tbr0')
  t.equal(link(env.node, 'tbr0')?.address, mac, 'a port with a lower MAC does not change it')
  ip(env.node, 'link', 'del', 'low0')
  t.equal(env.run('DEL', env.config({}, { l2: true })).code, 0)
  t.same(hostVeths(env.node), [], 'no port left')
  t.equal(link(env.node, 'tbr0')?.address, mac, 'portless, it keeps its MAC (an unpinned one goes to all zeros)')
})

t.test('an existing bridge is pinned: all zeros get a new MAC (PR #1265), a port MAC is kept', async t => {
  const env = setupEnv(t, 'macz')
  ip(env.node, 'link', 'add', 'tbr0', 'type', 'bridge')
  ip(env.node, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1')
  ip(env.node, 'link', 'set', 'p0', 'master', 'tbr0')
  ip(env.node, 'link', 'del', 'p0')
  t.equal(link(env.node, 'tbr0')?.address, ZERO, 'the kernel reports all zeros for a bridge whose last port left')
  t.equal(addrAssignType(env.node, 'tbr0'), '1', 'random, not pinned')
  const res = addOK(t, env, env.config())
  const mac = link(env.node, 'tbr0')!.address
  t.not(mac, ZERO, 'a new MAC')
  t.equal(addrAssignType(env.node, 'tbr0'), '3', 'pinned')
  t.equal(res.interfaces[0].mac, mac)

  const env2 = setupEnv(t, 'macp')
  ip(env2.node, 'link', 'add', 'tbr0', 'type', 'bridge')
  ip(env2.node, 'link', 'add', 'q0', 'address', '02:00:00:00:00:07', 'type', 'veth', 'peer', 'name', 'q1')
  ip(env2.node, 'link', 'set', 'q0', 'master', 'tbr0')
  t.equal(link(env2.node, 'tbr0')?.address, '02:00:00:00:00:07', 'an unpinned bridge follows its port')
  addOK(t, env2, env2.config({}, { l2: true }))
  t.equal(link(env2.node, 'tbr0')?.address, '02:00:00:00:00:07', 'the MAC it had is the one pinned')
  ip(env2.node, 'link', 'del', 'q0')
  t.equal(link(env2.node, 'tbr0')?.address, '02:00:00:00:00:07', 'and kept when that port leaves')
})

t.test('CHECK verifies the bridge MAC', async t => {
  const env = setupEnv(t, 'macc')
  const conf = env.config({}, { l2: true })
  const res = addOK(t, env, conf)
  t.equal(env.run('CHECK', { ...conf, prevResult: res }).code, 0, 'CHECK passes right after ADD (L2)')
  ip(env.node, 'link', 'set', 'tbr0', 'address', '02:00:00:00:00:99')
  const r = env.run('CHECK', { ...conf, prevResult: res })
  t.equal(r.code, 1)
  t.match(r.json?.msg, /^Bridge interface tbr0 Mac doesn't match/)
})

// --- 3. IPv6 router advertisements ----------------------------------------

/**
 * A router namespace wired to the bridge that sends a router advertisement
 * for 2001:db8:99::/64 (SLAAC, default route) every 100 ms until teardown.
 */
function startRouter (t: Teardown, env: Env, bridge: string): void {
  const router = makeNamespace(t, 'ra-router')
  ip(env.node, 'link', 'add', 'rport', 'type', 'veth', 'peer', 'name', 'r0', 'netns', router)
  ip(env.node, 'link', 'set', 'rport', 'master', bridge)
  ip(env.node, 'link', 'set', 'rport', 'up')
  // fe80::1 its only link-local address: the kernel's default (addr_gen_mode eui64) would add a
  // second one once its DAD ends, and the RAs could then leave from that one.
  ip(router, 'link', 'set', 'r0', 'addrgenmode', 'none')
  ip(router, 'addr', 'add', 'fe80::1/64', 'dev', 'r0', 'nodad')
  ip(router, 'link', 'set', 'r0', 'up')
  const script = `
import socket, struct, time
ifindex = socket.if_nametoindex('r0')
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
# type 134, code 0, checksum (kernel), hop limit 64, flags 0, router lifetime 1800 s, reachable, retrans
ra = struct.pack('!BBHBBHII', 134, 0, 0, 64, 0, 1800, 0, 0)
# prefix information: /64, on-link + autonomous, valid 86400 s, preferred 14400 s
ra += struct.pack('!BBBBIII', 3, 4, 64, 0xc0, 86400, 14400, 0) + socket.inet_pton(socket.AF_INET6, '2001:db8:99::')
while True:
    try:
        s.sendto(ra, ('ff02::1', 0, 0, ifindex))
    except OSError:
        pass
    time.sleep(0.1)
`
  const child = spawn('ip', ['netns', 'exec', router, 'python3', '-c', script], { stdio: 'ignore' })
  t.teardown(() => { child.kill('SIGKILL') })
}

const raRoutes = (ns: string): any[] => ipJson(ns, '-6', 'route', 'show', 'proto', 'ra')
const slaacAddresses = (ns: string, dev: string): string[] =>
  addresses(ns, dev).filter(a => a.family === 'inet6' && a.scope === 'global' && a.local.startsWith('2001:db8:99:')).map(a => a.local)

async function waitFor (cond: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (cond()) return true
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return cond()
}

t.test('RAs off by default: accept_ra=0 and autoconf=0 set before link-up, while a router is advertising', { skip: raSkip }, async t => {
  const env = setupEnv(t, 'ra')
  // The bridge first, so the router's port can join it before the container exists.
  addOK(t, env, env.config({}, { l2: true }), { containerId: 'first', ifname: 'eth9' })
  startRouter(t, env, 'tbr0')
  // A control interface with the kernel's defaults on the same bridge learns from the router: the RAs flow.
  ip(env.node, 'link', 'add', 'ctl0', 'type', 'veth', 'peer', 'name', 'ctl1', 'netns', env.pod)
  ip(env.node, 'link', 'set', 'ctl0', 'master', 'tbr0')
  ip(env.node, 'link', 'set', 'ctl0', 'up')
  ip(env.pod, 'link', 'set', 'ctl1', 'up')
  t.ok(await waitFor(() => slaacAddresses(env.pod, 'ctl1').length > 0), 'the control interface got a SLAAC address from the router')

  addOK(t, env, env.config({}, { subnet: '10.77.0.0/24' }))
  t.equal(sysctl(env.pod, 'net/ipv6/conf/eth0/accept_ra'), '0')
  t.equal(sysctl(env.pod, 'net/ipv6/conf/eth0/autoconf'), '0')
  // The control got its address within a few RAs; eth0 is given the same time, after it went up.
  t.ok(await waitFor(() => raRoutes(env.pod).some(r => r.dev === 'ctl1')), 'the control learned the default route')
  await new Promise(resolve => setTimeout(resolve, 1500))
  t.same(slaacAddresses(env.pod, 'eth0'), [], 'no SLAAC address on eth0')
  t.same(raRoutes(env.pod).filter(r => r.dev === 'eth0'), [], 'no RA-learned route on eth0')
  t.equal(sysctl(env.pod, 'net/ipv6/conf/eth9/accept_ra'), '0', 'the L2 path too')
  t.same(slaacAddresses(env.pod, 'eth9'), [])
})

t.test('enableSlaac: the container takes the router\'s prefix and default route; CHECK with RAs off flags them', { skip: raSkip }, async t => {
  const env = setupEnv(t, 'slaac')
  addOK(t, env, env.config({}, { l2: true }), { containerId: 'first', ifname: 'eth9' })
  startRouter(t, env, 'tbr0')
  const slaacConf = env.config({ enableSlaac: true }, { l2: true })
  const res = addOK(t, env, slaacConf)
  t.equal(sysctl(env.pod, 'net/ipv6/conf/eth0/accept_ra'), '1')
  t.equal(sysctl(env.pod, 'net/ipv6/conf/eth0/autoconf'), '1')
  t.ok(await waitFor(() => slaacAddresses(env.pod, 'eth0').length > 0), 'a SLAAC address from the router\'s prefix')
  t.ok(await waitFor(() => raRoutes(env.pod).some(r => r.dev === 'eth0' && r.dst === 'default')), 'the router\'s default route, proto ra')
  t.equal(env.run('CHECK', { ...slaacConf, prevResult: res }).code, 0, 'CHECK with enableSlaac accepts them')
  const off = env.run('CHECK', { ...env.config({}, { l2: true }), prevResult: res })
  t.equal(off.code, 1, 'CHECK with RAs off flags them')
  t.match(off.json?.msg, /Interface eth0 has routes? learned from router advertisements \(.*::\/0 via fe80::1.*\) though enableSlaac is off/)
})

t.test('CHECK flags a route learned from an RA (proto ra), and a SLAAC address', async t => {
  const env = setupEnv(t, 'rachk')
  const conf = env.config({}, { ranges: [[{ subnet: 'fd00:77::/64' }]] })
  const res = addOK(t, env, conf)
  t.equal(env.run('CHECK', { ...conf, prevResult: res }).code, 0)
  ip(env.pod, '-6', 'route', 'add', '2001:db8:5::/64', 'dev', 'eth0', 'proto', 'ra')
  const r = env.run('CHECK', { ...conf, prevResult: res })
  t.equal(r.code, 1)
  t.match(r.json?.msg, /Interface eth0 has route learned from router advertisements \(2001:db8:5::\/64\)/)
  ip(env.pod, '-6', 'route', 'del', '2001:db8:5::/64', 'dev', 'eth0', 'proto', 'ra')
  ip(env.pod, 'addr', 'add', '2001:db8:6::5/64', 'dev', 'eth0', 'valid_lft', '3600', 'preferred_lft', '3600', 'nodad')
  const a = env.run('CHECK', { ...conf, prevResult: res })
  t.equal(a.code, 1)
  t.match(a.json?.msg, /Interface eth0 has SLAAC address 2001:db8:6::5\/64 though enableSlaac is off/)
})

// --- 4. groupFwdMask ------------------------------------------------------

t.test('groupFwdMask on a new bridge and reconciled on an existing one; CHECK reports drift', async t => {
  const env = setupEnv(t, 'gfm')
  const conf = env.config({ groupFwdMask: 16384 })
  const res = addOK(t, env, conf)
  t.equal(link(env.node, 'tbr0')?.linkinfo?.info_data?.group_fwd_mask, '0x4000', 'LLDP (01:80:C2:00:00:0E) forwarded')
  t.equal(env.run('CHECK', { ...conf, prevResult: res }).code, 0)
  ip(env.node, 'link', 'set', 'tbr0', 'type', 'bridge', 'group_fwd_mask', '0')
  const r = env.run('CHECK', { ...conf, prevResult: res })
  t.equal(r.code, 1)
  t.match(r.json?.msg, /groupFwdMask 0x0 doesn't match the configured 0x4000/)
  addOK(t, env, env.config({ groupFwdMask: 0x4008 }), { containerId: 'ctr2', ifname: 'eth1' })
  t.equal(link(env.node, 'tbr0')?.linkinfo?.info_data?.group_fwd_mask, '0x4008', 'an existing bridge takes the configured mask')
  addOK(t, env, env.config(), { containerId: 'ctr3', ifname: 'eth2' })
  t.equal(link(env.node, 'tbr0')?.linkinfo?.info_data?.group_fwd_mask, '0x4008', 'no groupFwdMask (or 0): left as it is (upstream PR #1254)')
})

t.test('groupFwdMask: the bits the kernel refuses are exactly the ones we name; code 7, nothing created', async t => {
  const env = setupEnv(t, 'gfmbad')
  // The oracle: which single bits does the kernel itself refuse?
  const refused: number[] = []
  for (let bit = 0; bit < 16; bit++) {
    try {
      ip(env.node, 'link', 'add', `gb${bit}`, 'type', 'bridge', 'group_fwd_mask', String(1 << bit))
      ip(env.node, 'link', 'del', `gb${bit}`)
    } catch {
      refused.push(bit)
    }
  }
  t.same(refused, [0, 1, 2], 'the kernel refuses STP, pause and LACP')
  for (const bit of refused) {
    const r = env.run('ADD', env.config({ groupFwdMask: (1 << bit) | 0x4000 }))
    t.equal(r.code, 1)
    t.same(Object.keys(r.json ?? {}).sort(), ['cniVersion', 'code', 'details', 'msg'])
    t.equal(r.json?.code, 7)
    t.match(r.json?.msg, new RegExp(`sets bit the kernel never forwards: ${bit} \\(01:80:C2:00:00:0${bit}, `))
  }
  t.same(ipJson(env.node, 'link', 'show').map((l: any) => l.ifname), ['lo'], 'no bridge, no veth')
  t.same(ipFiles(env.dataDir, 'tnet'), [], 'no address reserved')
})
