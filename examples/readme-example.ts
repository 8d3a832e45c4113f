import { NetNamespace, NetlinkHandle, NetlinkError, readSysctl, subscribeRouteEvents, AF_INET } from 'tscni/netlink'

const name = process.argv[2] ?? 'demo'
const ns = NetNamespace.create(name)                // like `ip netns add demo`
const peer = NetNamespace.create(`${name}-peer`)
const h = NetlinkHandle.open(ns)                    // one socket, inside that namespace
const events = subscribeRouteEvents(['link'], { namespace: ns, resync: true })
try {
  await h.links.createBridge({ name: 'br0', mtu: 1400 })
  await h.links.createVeth({ name: 'veth0', peerName: 'eth0', peerNamespace: peer }) // one request
  await h.links.setMaster('veth0', 'br0')
  await h.links.setUp('br0')
  const br0 = await h.links.get('br0')
  await h.addresses.add({ index: br0.index, address: '10.1.0.1/24' })
  await h.routes.add({ dst: '10.9.0.0/16', gateway: '10.1.0.254', table: 1000 })
  await h.rules.add({ priority: 100, src: '10.1.0.0/24', table: 1000 })
  const routes = await h.routes.list({ family: AF_INET, table: 1000 }) // objects with what each route carries, addresses as strings
  console.log(routes.map(r => `${r.dst} via ${r.gateway} table ${r.table}`))
  try {
    await h.links.createBridge({ name: 'br0' })
  } catch (err) {
    if (err instanceof NetlinkError) console.log(err.code, err.message) // EEXIST RTM_NEWLINK bridge br0 in /var/run/netns/demo: …
  }
  for await (const ev of events) {                  // RTM_NEWLINK …, or { kind: 'overrun' } then { kind: 'resync', snapshot }
    if ('link' in ev && ev.link.name === 'veth0') break
  }
  console.log('conntrack entries of 10.1.0.2 deleted:', await h.conntrack.deleteByAddress('10.1.0.2'))
  console.log('ip_forward', readSysctl('net/ipv4/ip_forward', ns), ns.run(() => process.pid)) // run(): synchronous code inside
} finally {
  events.close()
  h.close()
  ns.close(); peer.close()
  NetNamespace.delete(name); NetNamespace.delete(`${name}-peer`) // like `ip netns del`
}
