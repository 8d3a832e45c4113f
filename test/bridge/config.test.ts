// The bridge options as upstream reads them: defaults, Go's JSON rules
// (case-insensitive keys, null = default), the VLAN/trunk checks with their
// texts, MAC precedence, the refused options, and wrong types explained.
import t from 'tap'
import { checkAddOptions, collectVlanTrunk, loadBridgeConfig, wantsVlanFiltering } from '../../src/plugins/bridge/config.js'
import { CniError } from '../../src/cni/errors.js'

const base = { cniVersion: '1.0.0', name: 'n', type: 'bridge' }

async function rejects (t: Tap.Test, p: Promise<unknown>, code: number, msg: string | RegExp, details?: RegExp): Promise<void> {
  try {
    await p
    t.fail(`expected an error ${String(msg)}`)
  } catch (err) {
    t.ok(err instanceof CniError, 'a CniError')
    const e = err as CniError
    t.equal(e.code, code, `code ${code}`)
    if (typeof msg === 'string') t.equal(e.msg, msg); else t.match(e.msg, msg)
    if (details !== undefined) t.match(e.details, details)
  }
}

t.test('defaults', async t => {
  const c = await loadBridgeConfig({ ...base })
  t.same(c, {
    bridge: 'cni0',
    isGateway: false,
    isDefaultGateway: false,
    forceAddress: false,
    ipMasq: false,
    mtu: 0,
    mtuAuto: false,
    hairpinMode: false,
    promiscMode: false,
    vlan: 0,
    vlanTrunkGiven: false,
    trunkVlans: [],
    preserveDefaultVlan: false,
    macspoofchk: false,
    enabledad: false,
    disableContainerInterface: false,
    portIsolation: false,
    groupFwdMask: 0,
    enableSlaac: false,
    isolate: false,
    ipamType: ''
  })
  t.notOk(wantsVlanFiltering(c))
})

t.test('Go JSON rules: case-insensitive keys, last wins, null is the default', async t => {
  const c = await loadBridgeConfig({ ...base, BRIDGE: 'br0', MTU: 1300, isgateway: true, mtu: 1400, bridge: null, IPAM: { TYPE: 'host-local' } })
  t.equal(c.bridge, 'cni0', 'a later null resets to the default')
  t.equal(c.mtu, 1400, 'the last of MTU/mtu wins')
  t.equal(c.isGateway, true)
  t.equal(c.ipamType, 'host-local')
  const d = await loadBridgeConfig({ ...base, bridge: '' })
  t.equal(d.bridge, 'cni0', 'empty bridge name is the default')
})

t.test('isDefaultGateway implies isGateway', async t => {
  const c = await loadBridgeConfig({ ...base, isDefaultGateway: true })
  t.equal(c.isGateway, true)
})

t.test('VLAN checks', async t => {
  await rejects(t, loadBridgeConfig({ ...base, vlan: -100 }), 7, 'invalid VLAN ID -100 (must be between 0 and 4094)')
  await rejects(t, loadBridgeConfig({ ...base, vlan: 5000 }), 7, 'invalid VLAN ID 5000 (must be between 0 and 4094)')
  const c = await loadBridgeConfig({ ...base, vlan: 100 })
  t.ok(wantsVlanFiltering(c))
  const e = await loadBridgeConfig({ ...base, vlanTrunk: [] })
  t.ok(wantsVlanFiltering(e), 'an empty vlanTrunk still asks for vlan_filtering, as upstream')
  t.same(e.trunkVlans, [])
})

t.test('trunk table (upstream texts)', async t => {
  const cases: Array<[unknown[], string | number[]]> = [
    [[{ id: 101 }, { minID: 200, maxID: 202 }, { id: 101 }, { id: 5 }], [5, 101, 200, 201, 202]],
    [[{ minID: 0, maxID: 10 }], 'incorrect trunk minID parameter'],
    [[{ minID: 1, maxID: 4095 }], 'incorrect trunk maxID parameter'],
    [[{ minID: 10, maxID: 5 }], 'minID is greater than maxID in trunk parameter'],
    [[{ maxID: 5 }], 'minID and maxID should be configured simultaneously, minID is missing'],
    [[{ minID: 5 }], 'minID and maxID should be configured simultaneously, maxID is missing'],
    [[{ id: 0 }], 'incorrect trunk id parameter'],
    [[{ id: 4095 }], 'incorrect trunk id parameter'],
    [[null, { ID: 7 }], [7]]
  ]
  for (const [trunk, want] of cases) {
    const p = loadBridgeConfig({ ...base, vlanTrunk: trunk })
    if (typeof want === 'string') await rejects(t, p, 7, want)
    else t.same((await p).trunkVlans, want, JSON.stringify(trunk))
  }
  t.same(collectVlanTrunk([]), [])
})

t.test('MAC precedence: runtimeConfig > args.cni.mac > CNI_ARGS MAC', async t => {
  const env = '0a:00:00:00:00:01'
  const args = '0a:00:00:00:00:02'
  const rt = '0a:00:00:00:00:03'
  t.equal((await loadBridgeConfig({ ...base }, env)).mac, env)
  t.equal((await loadBridgeConfig({ ...base, args: { cni: { mac: args } } }, env)).mac, args)
  t.equal((await loadBridgeConfig({ ...base, args: { cni: { mac: args } }, runtimeConfig: { mac: rt } }, env)).mac, rt)
  t.equal((await loadBridgeConfig({ ...base, runtimeConfig: { mac: rt } })).mac, rt)
  t.equal((await loadBridgeConfig({ ...base })).mac, undefined)
  await rejects(t, loadBridgeConfig({ ...base, runtimeConfig: { mac: 'zz' } }), 7, 'failed to make veth pair: address zz: invalid MAC address')
})

t.test('dns replaces the IPAM dns only when a field is set', async t => {
  t.equal((await loadBridgeConfig({ ...base, dns: {} })).dns, undefined)
  t.same((await loadBridgeConfig({ ...base, dns: { nameservers: [] } })).dns, { nameservers: [] })
  t.same((await loadBridgeConfig({ ...base, dns: { domain: 'x.org', search: ['a'] } })).dns, { domain: 'x.org', search: ['a'] })
})

t.test('wrong types are explained field by field (zod loaded only then)', async t => {
  await rejects(t, loadBridgeConfig({ ...base, mtu: 'big', isGateway: 'yes' }), 7, 'failed to load netconf', /^(?=.*mtu: expected number or "auto", got string "big")(?=.*isGateway: expected boolean, got string "yes")/)
  await rejects(t, loadBridgeConfig({ ...base, mtu: 1.5 }), 7, 'failed to load netconf', /mtu/)
  await rejects(t, loadBridgeConfig({ ...base, vlanTrunk: [{ id: 'x' }] }), 7, 'failed to load netconf', /vlanTrunk\[0\]\.id/)
  await rejects(t, loadBridgeConfig({ ...base, ipam: 'host-local' }), 7, 'failed to load netconf', /ipam: expected object/)
  await rejects(t, loadBridgeConfig({ ...base, PortIsolation: 'true' }), 7, 'failed to load netconf', /portIsolation: expected boolean/)
})

t.test('bridge name and MTU are checked before the kernel sees them', async t => {
  await rejects(t, loadBridgeConfig({ ...base, bridge: 'a-very-long-bridge-name' }), 7, /invalid bridge name "a-very-long-bridge-name": interface name is too long/)
  await rejects(t, loadBridgeConfig({ ...base, bridge: 'a/b' }), 7, /invalid bridge name/)
  await rejects(t, loadBridgeConfig({ ...base, mtu: -1 }), 7, /invalid MTU -1/)
})

t.test('ADD-only checks: masquerade backend, conflicts', async t => {
  for (const backend of [undefined, 'nftables', 'iptables']) {
    const masq = await loadBridgeConfig({ ...base, ipMasq: true, ...(backend !== undefined ? { ipMasqBackend: backend } : {}) })
    t.doesNotThrow(() => { checkAddOptions(masq) }, `ipMasqBackend ${String(backend)} is served (with nf_tables)`)
  }
  const pf = await loadBridgeConfig({ ...base, ipMasq: true, ipMasqBackend: 'pf' })
  t.throws(() => { checkAddOptions(pf) }, { code: 7, msg: 'unknown ipmasq backend "pf"' })
  const unused = await loadBridgeConfig({ ...base, ipMasq: false, ipMasqBackend: 'pf' })
  t.doesNotThrow(() => { checkAddOptions(unused) }, 'the backend is only read with ipMasq (upstream)')
  const spoof = await loadBridgeConfig({ ...base, macspoofchk: true })
  t.doesNotThrow(() => { checkAddOptions(spoof) })
  const both = await loadBridgeConfig({ ...base, hairpinMode: true, promiscMode: true })
  t.throws(() => { checkAddOptions(both) }, { code: 7, msg: 'cannot set hairpin mode and promiscuous mode at the same time' })
  const dci = await loadBridgeConfig({ ...base, disableContainerInterface: true, ipam: { type: 'host-local' } })
  t.throws(() => { checkAddOptions(dci) }, { code: 7, msg: 'cannot use IPAM when DisableContainerInterface flag is set' })
  const fine = await loadBridgeConfig({ ...base, ipMasq: false, disableContainerInterface: true })
  t.doesNotThrow(() => { checkAddOptions(fine) })
})

t.test('issue 12 options: mtu "auto", groupFwdMask, enableSlaac, isolate', async t => {
  const c = await loadBridgeConfig({ ...base, mtu: 'auto', groupFwdMask: 0x4000, enableSlaac: true, isolate: true })
  t.match(c, { mtu: 0, mtuAuto: true, groupFwdMask: 0x4000, enableSlaac: true, isolate: true })
  t.match(await loadBridgeConfig({ ...base, MTU: 1400 }), { mtu: 1400, mtuAuto: false })
  await rejects(t, loadBridgeConfig({ ...base, mtu: 'big' }), 7, 'failed to load netconf', /mtu: expected (int|number) or "auto", got string "big"/)
  await rejects(t, loadBridgeConfig({ ...base, groupFwdMask: '0x4000' }), 7, 'failed to load netconf', /groupFwdMask: expected (int|number)/)
  await rejects(t, loadBridgeConfig({ ...base, isolate: 'yes' }), 7, 'failed to load netconf', /isolate: expected boolean/)
  await rejects(t, loadBridgeConfig({ ...base, enableSlaac: 1 }), 7, 'failed to load netconf', /enableSlaac: expected boolean/)
  await rejects(t, loadBridgeConfig({ ...base, groupFwdMask: 70000 }), 7, 'invalid groupFwdMask 70000 (must be between 0 and 65535)')
  await rejects(t, loadBridgeConfig({ ...base, groupFwdMask: -1 }), 7, 'invalid groupFwdMask -1 (must be between 0 and 65535)')
})

t.test('groupFwdMask bits the kernel refuses (BR_GROUPFWD_RESTRICTED) are named', async t => {
  await rejects(t, loadBridgeConfig({ ...base, groupFwdMask: 1 }), 7, 'groupFwdMask 0x1 sets bit the kernel never forwards: 0 (01:80:C2:00:00:00, STP)')
  await rejects(t, loadBridgeConfig({ ...base, groupFwdMask: 0x4006 }), 7,
    'groupFwdMask 0x4006 sets bits the kernel never forwards: 1 (01:80:C2:00:00:01, MAC pause), 2 (01:80:C2:00:00:02, LACP (slow protocols))',
    /clear bits 0-2 \(mask 0x4000 without them\)/)
  for (const ok of [0, 8, 0x4000, 0xfff8]) t.equal((await loadBridgeConfig({ ...base, groupFwdMask: ok })).groupFwdMask, ok, `0x${ok.toString(16)} is accepted`)
})

t.test('an ipam object with keys but no type is refused, naming ipam.type', async t => {
  await rejects(t, loadBridgeConfig({ ...base, ipam: { subnet: '10.1.0.0/24' } }), 7, /^ipam has no type/, /^ipam\.type$/)
  await rejects(t, loadBridgeConfig({ ...base, ipam: { type: '', ranges: [] } }), 7, /^ipam has no type/)
  t.equal((await loadBridgeConfig({ ...base, ipam: {} })).ipamType, '', 'an empty ipam is L2, as upstream')
  t.equal((await loadBridgeConfig({ ...base, ipam: { type: '' } })).ipamType, '', 'a type "" alone is L2')
  t.equal((await loadBridgeConfig({ ...base, ipam: { subnet: null } })).ipamType, '', 'null values count as absent')
})

t.test('bridgeConfigProblems: every problem with its path', async t => {
  const { bridgeConfigProblems } = await import('../../src/plugins/bridge/config.js')
  t.same(await bridgeConfigProblems({ ...base, bridge: 'br0', mtu: 'auto' }), [], 'a good config has none')
  const semantic = await bridgeConfigProblems({ ...base, vlan: 5000, groupFwdMask: 1, ipam: { subnet: '10.1.0.0/24' }, hairpinMode: true, promiscMode: true, runtimeConfig: { mac: 'zz' } })
  t.same(semantic.map(p => p.path), ['vlan', 'groupFwdMask', 'runtimeConfig.mac', 'ipam.type', 'promiscMode'])
  t.ok(semantic.every(p => p.error.code === 7))
  const types = await bridgeConfigProblems({ ...base, mtu: 'big', isGateway: 'yes', vlanTrunk: [{ id: 'x' }] })
  t.same(types.map(p => p.path).sort(), ['isGateway', 'mtu', 'vlanTrunk[0].id'])
})
