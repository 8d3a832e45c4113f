// The allocator without a disk: upstream's allocator_test.go cases (iterator,
// round robin, exhaustion, requested addresses) and the ADD-level behaviour
// of main.go (one address per set, release on failure, leftover requests).
import t from 'tap'
import { AllocationError, DryRunStore, IPAllocator, RangeIterator, allocateAll } from '../../src/ipam/allocator.js'
import { formatIPText, parseIPText, type IP } from '../../src/netlink/addr.js'
import { type RangeSet, parseRangeSet } from '../../src/ipam/range-set.js'
import type { RangeSpec } from '../../src/ipam/range.js'
import { FakeStore } from '../helpers/fake-store.js'

const ip = (s: string): IP => parseIPText(s)!
const set = (...ranges: Array<string | Omit<RangeSpec, 'path'>>): RangeSet =>
  parseRangeSet(ranges.map((r, i) => typeof r === 'string' ? { path: `r${i}`, subnet: r } : { path: `r${i}`, ...r }), 's')

function drain (it: RangeIterator): string[] {
  const out: string[] = []
  for (let c = it.next(); c !== undefined; c = it.next()) {
    out.push(formatIPText(c.ip))
    if (out.length > 1000) throw new Error('iterator does not end')
  }
  return out
}

t.test('RangeIter on 192.168.1.0/29', async t => {
  const s = set('192.168.1.0/29')
  t.same(drain(new RangeIterator(s)), ['192.168.1.2', '192.168.1.3', '192.168.1.4', '192.168.1.5', '192.168.1.6'],
    'from the beginning: the gateway .1 skipped, no broadcast')
  t.same(drain(new RangeIterator(s, ip('192.168.1.6'))), ['192.168.1.2', '192.168.1.3', '192.168.1.4', '192.168.1.5', '192.168.1.6'],
    'from the end')
  t.same(drain(new RangeIterator(s, ip('192.168.1.3'))), ['192.168.1.4', '192.168.1.5', '192.168.1.6', '192.168.1.2', '192.168.1.3'],
    'from the middle: the last reserved address comes last')
  t.same(drain(new RangeIterator(s, ip('10.0.0.1'))), ['192.168.1.2', '192.168.1.3', '192.168.1.4', '192.168.1.5', '192.168.1.6'],
    'a last address outside the set is ignored')
  t.same(drain(new RangeIterator(set('10.0.0.0/30'))), ['10.0.0.2'], 'a /30 has one address')
  t.same(drain(new RangeIterator(set({ subnet: '10.0.0.0/30', rangeStart: '10.0.0.1', rangeEnd: '10.0.0.1' }))), [],
    'a range holding only its gateway ends at once')
})

t.test('RangeIter across ranges (multi-range start IPs)', async t => {
  const s = set({ subnet: '192.168.1.0/30', rangeStart: '192.168.1.0', rangeEnd: '192.168.1.3' },
    { subnet: '192.168.2.0/30', rangeStart: '192.168.2.0', rangeEnd: '192.168.2.3' })
  t.same(drain(new RangeIterator(s, ip('192.168.1.3'))),
    ['192.168.2.0', '192.168.2.2', '192.168.2.3', '192.168.1.0', '192.168.1.2', '192.168.1.3'],
    'after the last of range 0 comes the first of range 1; gateways .1 skipped')
  t.same(drain(new RangeIterator(s)),
    ['192.168.1.0', '192.168.1.2', '192.168.1.3', '192.168.2.0', '192.168.2.2', '192.168.2.3'])
})

t.test('round robin (allocator_test.go table)', async t => {
  const cases: Array<{ subnets: string[], ipmap?: Record<string, string>, last?: string, want: string }> = [
    { subnets: ['10.0.0.0/29'], want: '10.0.0.2' },
    { subnets: ['2001:db8:1::0/64'], want: '2001:db8:1::2' },
    { subnets: ['10.0.0.0/30'], want: '10.0.0.2' },
    { subnets: ['10.0.0.0/29'], ipmap: { '10.0.0.2': 'id' }, want: '10.0.0.3' },
    { subnets: ['10.0.0.0/29'], last: '10.0.0.5', want: '10.0.0.6' },
    { subnets: ['10.0.0.0/29'], ipmap: { '10.0.0.4': 'id', '10.0.0.5': 'id' }, last: '10.0.0.3', want: '10.0.0.6' },
    { subnets: ['10.0.0.0/29'], ipmap: { '10.0.0.6': 'id' }, last: '10.0.0.5', want: '10.0.0.2' },
    { subnets: ['10.0.0.0/29'], ipmap: { '10.0.0.2': 'id' }, last: '10.0.0.128', want: '10.0.0.3' },
    { subnets: ['10.0.0.0/29'], ipmap: { '10.0.0.2': 'id', '10.0.0.4': 'id', '10.0.0.5': 'id', '10.0.0.6': 'id' }, last: '10.0.0.3', want: '10.0.0.3' },
    { subnets: ['10.0.0.0/30', '10.0.1.0/30'], want: '10.0.0.2' },
    { subnets: ['10.0.0.0/30', '10.0.1.0/30'], last: '10.0.0.2', want: '10.0.1.2' },
    { subnets: ['10.0.0.0/30', '10.0.1.0/30', '10.0.2.0/30'], last: '10.0.2.2', want: '10.0.0.2' }
  ]
  for (const c of cases) {
    const store = new FakeStore(c.ipmap, c.last === undefined ? {} : { 0: c.last })
    const got = new IPAllocator(set(...c.subnets), store, 0).get('ID', 'eth0')
    t.equal(formatIPText(got.address), c.want, JSON.stringify(c))
    t.equal(store.last.get(0), c.want, 'recorded as the last reserved address')
  }
})

t.test('the broadcast address is never handed out; exhaustion names the set', async t => {
  const store = new FakeStore()
  const a = new IPAllocator(set('192.168.1.0/29'), store, 0)
  for (let i = 2; i < 7; i++) {
    const c = a.get(`ID${i}`, 'eth0')
    t.equal(`${formatIPText(c.address)}/${c.prefixLength}`, `192.168.1.${i}/29`)
    t.equal(formatIPText(c.gateway), '192.168.1.1')
  }
  t.throws(() => a.get('ID8', 'eth0'), { message: 'no IP addresses available in range set: 192.168.1.1-192.168.1.6', reason: 'exhausted' })
  t.notOk(store.reserveCalls.includes('192.168.1.7'), 'broadcast never even tried')
  t.notOk(store.reserveCalls.includes('192.168.1.1'), 'gateway never tried')
})

t.test('out of addresses (allocator_test.go)', async t => {
  for (const c of [
    { subnets: ['10.0.0.0/30'], ipmap: { '10.0.0.2': 'id' } },
    { subnets: ['10.0.0.0/29'], ipmap: { '10.0.0.2': 'id', '10.0.0.3': 'id', '10.0.0.4': 'id', '10.0.0.5': 'id', '10.0.0.6': 'id' } },
    { subnets: ['10.0.0.0/30', '10.0.1.0/30'], ipmap: { '10.0.0.2': 'id', '10.0.1.2': 'id' } }
  ]) {
    const err = t.throws(() => new IPAllocator(set(...c.subnets), new FakeStore(c.ipmap), 0).get('ID', 'eth0')) as Error
    t.match(err.message, /^no IP addresses available in range set/)
  }
})

t.test('release then get gives the next address, not the same one', async t => {
  const store = new FakeStore()
  const a = new IPAllocator(set('192.168.1.0/29'), store, 0)
  t.equal(formatIPText(a.get('ID', 'eth0').address), '192.168.1.2')
  store.releaseByID('ID', 'eth0')
  t.equal(formatIPText(a.get('ID', 'eth0').address), '192.168.1.3')
})

t.test('requested addresses', async t => {
  const a = new IPAllocator(set('192.168.1.0/29'), new FakeStore(), 0)
  t.equal(formatIPText(a.get('ID', 'eth0', ip('192.168.1.5')).address), '192.168.1.5')
  t.throws(() => a.get('ID', 'eth0', ip('192.168.1.5')),
    { message: 'requested IP address 192.168.1.5 is not available in range set 192.168.1.1-192.168.1.6', reason: 'unavailable' })
  t.throws(() => a.get('ID2', 'eth0', ip('192.168.1.1')), { message: "requested ip 192.168.1.1 is subnet's gateway", reason: 'gateway' })
  const narrow = new IPAllocator(set({ subnet: '192.168.1.0/29', rangeStart: '192.168.1.3', rangeEnd: '192.168.1.4' }), new FakeStore(), 0)
  t.throws(() => narrow.get('ID', 'eth0', ip('192.168.1.5')), { message: '192.168.1.5 not in range set 192.168.1.3-192.168.1.4' }, 'after rangeEnd')
  t.throws(() => narrow.get('ID', 'eth0', ip('192.168.1.2')), { message: '192.168.1.2 not in range set 192.168.1.3-192.168.1.4' }, 'before rangeStart')
})

t.test('duplicate allocation: same id+ifname, or a legacy file of the id', async t => {
  const store = new FakeStore()
  const a = new IPAllocator(set('10.1.2.0/24'), store, 0)
  a.get('dummy', 'eth0')
  t.throws(() => a.get('dummy', 'eth0'), { message: '10.1.2.2 has been allocated to dummy, duplicate allocation is not allowed', reason: 'duplicate' })
  t.equal(formatIPText(a.get('dummy', 'eth1').address), '10.1.2.3', 'another interface of the same container is fine')
  t.equal(formatIPText(a.get('other', 'eth0').address), '10.1.2.4')
  const legacy = new FakeStore({ '10.1.2.9': 'old' })
  t.throws(() => new IPAllocator(set('10.1.2.0/24'), legacy, 0).get('old', 'eth0'), { reason: 'duplicate' })
  const elsewhere = new FakeStore({ '10.9.0.2': 'dummy\r\neth0' })
  t.equal(formatIPText(new IPAllocator(set('10.1.2.0/24'), elsewhere, 0).get('dummy', 'eth0').address), '10.1.2.2',
    'an address of the attachment in another set is no duplicate')
})

t.test('an unreadable last_reserved_ip is logged, not fatal', async t => {
  const store = new FakeStore()
  store.lastReservedIP = () => { throw new Error('EIO: i/o error') }
  const warnings: string[] = []
  const c = new IPAllocator(set('10.1.2.0/24'), store, 0, w => warnings.push(w)).get('x', 'eth0')
  t.equal(formatIPText(c.address), '10.1.2.2')
  t.same(warnings, ['Error retrieving last reserved ip: EIO: i/o error'])
})

t.test('allocateAll: one address per set, in order', async t => {
  const store = new FakeStore()
  const sets = [set('10.1.2.0/24', '10.2.2.0/24'), set('2001:db8:1::/64')]
  const got = allocateAll(sets, store, 'dummy', 'eth0')
  t.same(got.map(c => [formatIPText(c.address), c.prefixLength, formatIPText(c.gateway), c.rangeSet]),
    [['10.1.2.2', 24, '10.1.2.1', 0], ['2001:db8:1::2', 64, '2001:db8:1::1', 1]])
  t.same([...store.last], [[0, '10.1.2.2'], [1, '2001:db8:1::2']])
})

t.test('allocateAll: requested addresses go to their set; the rest is dynamic', async t => {
  const store = new FakeStore()
  const sets = [set('10.1.2.0/24'), set('10.1.3.0/24'), set('2001:db8::/64')]
  const got = allocateAll(sets, store, 'c', 'eth0', [ip('2001:db8::99'), ip('10.1.3.77')])
  t.same(got.map(c => formatIPText(c.address)), ['10.1.2.2', '10.1.3.77', '2001:db8::99'])
})

t.test('allocateAll: a failing set releases what this call reserved, and only that', async t => {
  const store = new FakeStore({ '10.0.1.2': 'someone\r\neth0', '10.0.5.5': 'c\r\neth0' })
  const sets = [set('10.0.0.0/30'), set('10.0.1.0/30')]
  const err = t.throws(() => allocateAll(sets, store, 'c', 'eth0')) as AllocationError
  t.equal(err.message, 'failed to allocate for range 1: no IP addresses available in range set: 10.0.1.1-10.0.1.2')
  t.equal(err.rangeSet, 1)
  t.equal(err.reason, 'exhausted')
  t.notOk(store.ips.has('10.0.0.2'), 'the address of set 0 was given back')
  t.equal(store.ips.get('10.0.5.5'), 'c\r\neth0', 'an older reservation of the same attachment is left alone')
})

t.test('allocateAll: requested addresses that fit no set (main.go)', async t => {
  const store = new FakeStore()
  const err = t.throws(() => allocateAll([set('10.1.2.0/24')], store, 'c', 'eth0', [ip('10.1.2.5'), ip('10.1.2.6'), ip('10.9.9.9')])) as AllocationError
  t.equal(err.message, 'failed to allocate all requested IPs: 10.1.2.6 10.9.9.9')
  t.equal(err.reason, 'unfulfilled')
  t.equal(store.ips.size, 0, 'what was reserved is released')
  t.type(err, AllocationError)
})

t.test('DryRunStore: the rehearsal predicts the real run and touches nothing', async t => {
  class Base extends FakeStore {
    isReserved (a: IP): boolean { return this.ips.has(formatIPText(a)) }
  }
  const base = new Base({ '10.0.0.2': 'x\r\neth0' }, { 0: '10.0.0.2' })
  const sets = [set('10.0.0.0/29'), set('10.0.1.0/29')]
  const planned = allocateAll(sets, new DryRunStore(base), 'c', 'eth0')
  t.same(base.reserveCalls, [], 'no real reservation attempted')
  t.same([...base.last], [[0, '10.0.0.2']], 'round robin untouched')
  const real = allocateAll(sets, base, 'c', 'eth0')
  t.same(real.map(c => formatIPText(c.address)), planned.map(c => formatIPText(c.address)))
  t.same(real.map(c => formatIPText(c.address)), ['10.0.0.3', '10.0.1.2'])
  // A failing rehearsal: set 1 is full.
  const full = new Base({ '10.0.1.2': 'y\r\neth0' })
  t.throws(() => allocateAll([set('10.0.0.0/30'), set('10.0.1.0/30')], new DryRunStore(full), 'c', 'eth0'),
    { message: 'failed to allocate for range 1: no IP addresses available in range set: 10.0.1.1-10.0.1.2' })
  t.same(full.reserveCalls, [])
  t.same([...full.ips.keys()], ['10.0.1.2'])
})
