// Unit tests that need no kernel: gateway calculation, IP helpers, the veth
// name retry, and the ADD step runner's rollback order.
import t from 'tap'
import { calcGateways } from '../../src/plugins/bridge/gateways.js'
import { canonicalPrefix, firstHost, formatAddress, formatIPNet, isDefaultRoute, netContains, parseIPNet } from '../../src/netlink/addr.js'
import { createVethPair, randomVethName } from '../../src/plugins/bridge/host.js'
import { runSteps, type Step, type StepInput } from '../../src/plugins/bridge/steps.js'
import { NetlinkError } from '../../src/netlink/errors.js'
import type { IPConfig, Route } from '../../src/cni/result.js'

t.test('ipnet helpers', async t => {
  const n = parseIPNet('10.1.2.3/24')!
  t.equal(formatAddress(firstHost(n)), '10.1.2.1')
  t.equal(formatAddress(firstHost(parseIPNet('fd00:1::5/64')!)), 'fd00:1::1')
  t.equal(formatAddress(firstHost(parseIPNet('10.1.2.130/25')!)), '10.1.2.129')
  t.ok(netContains(parseIPNet('10.1.0.0/16')!, parseIPNet('10.1.200.9')!.address))
  t.notOk(netContains(parseIPNet('10.1.0.0/17')!, parseIPNet('10.1.200.9')!.address))
  t.notOk(netContains(parseIPNet('10.1.0.0/16')!, parseIPNet('fd00::1')!.address), 'families never contain each other')
  t.ok(netContains(parseIPNet('fd00:77::/64')!, parseIPNet('fd00:77::1')!.address))
  t.notOk(netContains(parseIPNet('fe80::/64')!, parseIPNet('fd00:77::1')!.address))
  t.equal(canonicalPrefix('10.1.2.3/24'), '10.1.2.0/24')
  t.equal(canonicalPrefix('fd00:77::2/64'), 'fd00:77::/64')
  t.ok(isDefaultRoute('0.0.0.0/0'))
  t.ok(isDefaultRoute('::/0'))
  t.notOk(isDefaultRoute('10.0.0.0/8'))
  t.equal(formatIPNet(parseIPNet('10.0.0.1/8')!), '10.0.0.1/8')
  t.equal(parseIPNet('banana'), undefined)
})

t.test('calcGateways (upstream rules)', async t => {
  const ips: IPConfig[] = [{ address: '10.1.2.5/24' }, { address: 'fd00::5/64', gateway: 'fd00::fe' }, { address: '10.9.0.5/16', gateway: '10.9.0.254' }]
  const routes: Route[] = []
  const plan = calcGateways(ips, routes, { isGateway: true, isDefaultGateway: true })
  t.same(ips.map(i => i.interface), [2, 2, 2], 'every IP on the container interface')
  t.equal(ips[0]!.gateway, '10.1.2.1', 'a missing gateway is the subnet\'s first address')
  t.equal(ips[1]!.gateway, 'fd00::fe', 'a given gateway is kept')
  t.same(routes, [{ dst: '0.0.0.0/0', gw: '10.1.2.1' }, { dst: '::/0', gw: 'fd00::fe' }], 'one default route per family, via the first gateway')
  t.same(plan.v4.gateways.map(formatIPNet), ['10.1.2.1/24', '10.9.0.254/16'], 'gateways with the container address\'s mask')
  t.same(plan.v6.gateways.map(formatIPNet), ['fd00::fe/64'])

  const ips2: IPConfig[] = [{ address: '10.1.2.5/24', gateway: '10.1.2.1' }]
  const routes2: Route[] = [{ dst: '0.0.0.0/0' }]
  calcGateways(ips2, routes2, { isGateway: true, isDefaultGateway: true })
  t.same(routes2, [{ dst: '0.0.0.0/0' }], 'an IPAM default route (even without gw) is not duplicated')

  const ips3: IPConfig[] = [{ address: '10.1.2.5/24' }]
  const routes3: Route[] = []
  const plan3 = calcGateways(ips3, routes3, { isGateway: false, isDefaultGateway: false })
  t.equal(ips3[0]!.gateway, undefined, 'no gateway invented without isGateway')
  t.same(routes3, [])
  t.same(plan3.v4.gateways, [])
})

t.test('veth names: veth + 8 hex, a clash of the host name is retried, a container clash is reported', async t => {
  for (let i = 0; i < 20; i++) t.match(randomVethName(), /^veth[0-9a-f]{8}$/)
  const eexist = (): NetlinkError => new NetlinkError(17, { operation: 'RTM_NEWLINK veth' })
  const tried: string[] = []
  let hostClashes = 2
  const fakeHost = {
    links: {
      createVeth: async (spec: { name: string }) => {
        tried.push(spec.name)
        if (hostClashes-- > 0) throw eexist()
      },
      find: async (name: string) => (tried.slice(0, 2).includes(name) ? { name } : undefined)
    }
  }
  const sandbox = { path: '/x', fd: 3 }
  const r = await createVethPair(fakeHost as any, { name: 'eth0', namespace: sandbox as any }, 0)
  t.equal(tried.length, 3, 'two clashes, then success')
  t.equal(r.hostName, tried[2])
  t.equal(new Set(tried).size, 3, 'a new name each time')

  const containerClash = {
    links: { createVeth: async () => { throw eexist() }, find: async () => undefined }
  }
  await t.rejects(createVethPair(containerClash as any, { name: 'eth0', namespace: sandbox as any }, 0), { message: /^container veth name \("eth0"\) peer provided \("veth[0-9a-f]{8}"\) already exists$/ })
  const other = { links: { createVeth: async () => { throw new NetlinkError(1, { operation: 'RTM_NEWLINK veth' }) }, find: async () => undefined } }
  await t.rejects(createVethPair(other as any, { name: 'eth0', namespace: sandbox as any }, 0), { message: /^failed to make veth pair: RTM_NEWLINK veth: EPERM/ })
})

t.test('the step runner undoes done steps in reverse and rethrows the failure', async t => {
  const log: string[] = []
  const warnings: string[] = []
  const state: StepInput = { ctx: { env: {}, log: { debug: () => {}, warn: (m: string) => warnings.push(m) } } }
  const step = (name: string, opts: { fail?: boolean, undo?: boolean, undoFails?: boolean, skip?: boolean } = {}): Step => ({
    name,
    ...(opts.skip === true ? { when: () => false } : {}),
    run: async (_s, onUndo) => {
      // The undo is registered before the work, as a step whose failure may leave half of it done.
      if (opts.undo === true) onUndo(async () => { log.push(`undo ${name}`); if (opts.undoFails === true) throw new Error('undo broke') })
      log.push(`run ${name}`)
      if (opts.fail === true) throw new Error(`${name} failed`)
    }
  })
  const steps = [step('a', { undo: true }), step('b'), step('skipped', { skip: true, undo: true }), step('c', { undo: true, undoFails: true }), step('d', { undo: true, fail: true }), step('e', { undo: true })]
  await t.rejects(runSteps(steps, state), { message: 'd failed' })
  t.same(log, ['run a', 'run b', 'run c', 'run d', 'undo d', 'undo c', 'undo a'], 'the failing step\'s own undo runs too (it may have half-done its work); skipped and later steps do not')
  t.match(warnings, [/rollback of step c failed: undo broke/], 'a failing undo is logged and the others still run')

  log.length = 0
  await runSteps([step('x', { undo: true }), step('y', { undo: true })], state)
  t.same(log, ['run x', 'run y'], 'no undo on success')

  log.length = 0
  const injected: StepInput = { ...state, ctx: { ...state.ctx, env: { TSCNI_FAIL_AFTER_STEP: 'y' } } }
  await t.rejects(runSteps([step('x', { undo: true }), step('y', { undo: true }), step('z', { undo: true })], injected), { message: /failing after step y as TSCNI_FAIL_AFTER_STEP asks/ })
  t.same(log, ['run x', 'run y', 'undo y', 'undo x'], 'TSCNI_FAIL_AFTER_STEP fails right after the named step and undoes it all')
})
