// Addresses, ranges and range sets: Go's texts, the defaults and every
// validation error of upstream's range.go / range_set.go, and the overlap
// table of range_test.go.
import t from 'tap'
import { formatIPText, nextIP, parseCIDRText, parseIPText, type IP } from '../../src/netlink/addr.js'
import { InvalidRangeError, parseRange, type RangeSpec } from '../../src/ipam/range.js'
import { parseRangeSet } from '../../src/ipam/range-set.js'

const ip = (s: string): IP => {
  const v = parseIPText(s)
  if (v === undefined) throw new Error(`bad test address ${s}`)
  return v
}
const spec = (s: Omit<RangeSpec, 'path'>): RangeSpec => ({ path: 'r', ...s })
const text = (r: { rangeStart: IP, rangeEnd: IP, gateway: IP }): string[] =>
  [formatIPText(r.rangeStart), formatIPText(r.rangeEnd), formatIPText(r.gateway)]

t.test('address text is Go net.IP.String()', async t => {
  const cases: Array<[string, string | undefined]> = [
    ['10.1.2.3', '10.1.2.3'],
    ['2001:DB8:1:0:0:0:0:2', '2001:db8:1::2'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of two equal zero runs
    ['fd00:0::2', 'fd00::2'],
    ['::ffff:10.1.2.3', '10.1.2.3'], // v4-mapped → IPv4
    ['::1', '::1'],
    ['::', '::'],
    ['2001:db8:1:2:3:4:0:8', '2001:db8:1:2:3:4:0:8'], // a single zero group is not compressed
    ['1.2.3.04', undefined], // leading zeros refused, as Go >= 1.17
    ['1.2.3', undefined],
    ['256.1.1.1', undefined],
    ['fe80::1%eth0', undefined], // net.ParseIP has no zones
    ['banana', undefined],
    ['', undefined]
  ]
  for (const [input, want] of cases) {
    const got = parseIPText(input)
    t.equal(got === undefined ? undefined : formatIPText(got), want, input)
  }
  t.equal(ip('::ffff:1.2.3.4').family, 4)
  t.equal(formatIPText(nextIP(ip('10.0.0.255'))), '10.0.1.0')
  t.equal(formatIPText(nextIP(ip('255.255.255.255'))), '0.0.0.0', 'wraps like ip.NextIP')
  t.equal(formatIPText(nextIP(ip('2001:db8::ffff'))), '2001:db8::1:0')
  t.same(parseCIDRText('10.1.2.5/24'), { ip: ip('10.1.2.5'), prefixLength: 24, maskBits: 32 }, 'host bits kept')
  t.equal(parseCIDRText('10.1.2.0/33'), undefined)
  t.equal(parseCIDRText('10.1.2.0'), undefined)
  t.equal(parseCIDRText('::ffff:10.1.2.0/120')?.maskBits, 128)
})

t.test('range defaults (range_test.go)', async t => {
  t.same(text(parseRange(spec({ subnet: '192.0.2.0/24' }))), ['192.0.2.1', '192.0.2.254', '192.0.2.1'])
  t.same(text(parseRange(spec({ subnet: '192.0.2.0/30' }))), ['192.0.2.1', '192.0.2.2', '192.0.2.1'])
  t.same(text(parseRange(spec({ subnet: '2001:db8:1::/64' }))),
    ['2001:db8:1::1', '2001:db8:1:0:ffff:ffff:ffff:ffff', '2001:db8:1::1'], 'IPv6: the last address, no broadcast')
  t.same(text(parseRange(spec({ subnet: '2001:db8:1::/126' }))), ['2001:db8:1::1', '2001:db8:1::3', '2001:db8:1::1'])
  t.same(text(parseRange(spec({ subnet: '192.0.2.0/24', rangeStart: '192.0.2.0', rangeEnd: '192.0.2.255', gateway: '192.0.2.254' }))),
    ['192.0.2.0', '192.0.2.255', '192.0.2.254'], 'explicit values win, even the network and broadcast addresses')
  const r = parseRange(spec({ subnet: '10.1.2.0/24' }))
  t.equal(r.subnetText(), '10.1.2.0/24')
  t.equal(r.toString(), '10.1.2.1-10.1.2.254')
  t.equal(r.capacity(), 253n, '.1-.254 without the gateway')
  t.ok(r.contains(ip('10.1.2.254')))
  t.notOk(r.contains(ip('10.1.2.255')))
  t.notOk(r.contains(ip('10.1.3.1')))
  t.notOk(r.contains(ip('::1')))
})

t.test('range validation errors: upstream texts, field named', async t => {
  const cases: Array<[Omit<RangeSpec, 'path'>, string, string]> = [
    [{ subnet: '10.1.2.0/31' }, 'Network 10.1.2.0/31 too small to allocate from', 'r.subnet'],
    [{ subnet: '10.1.2.5/32' }, 'Network 10.1.2.5/32 too small to allocate from', 'r.subnet'],
    [{ subnet: '2001:db8::/127' }, 'Network 2001:db8::/127 too small to allocate from', 'r.subnet'],
    [{ subnet: '::ffff:10.1.2.0/120' }, 'IPNet IP and Mask version mismatch', 'r.subnet'],
    [{ subnet: '10.1.2.5/24' }, 'Network has host bits set. For a subnet mask of length 24 the network address is 10.1.2.0', 'r.subnet'],
    [{ subnet: 'bogus' }, 'invalid CIDR address: bogus', 'r.subnet'],
    [{}, 'subnet is missing', 'r.subnet'],
    [{ subnet: '10.1.2.0/24', rangeStart: '10.1.3.5' }, 'RangeStart 10.1.3.5 not in network 10.1.2.0/24', 'r.rangeStart'],
    [{ subnet: '10.1.2.0/24', rangeEnd: '10.1.3.5' }, 'RangeEnd 10.1.3.5 not in network 10.1.2.0/24', 'r.rangeEnd'],
    [{ subnet: '10.1.2.0/24', rangeStart: '10.1.2.50', rangeEnd: '10.1.2.40' }, 'RangeStart 10.1.2.50 not in network 10.1.2.0/24', 'r.rangeStart'],
    [{ subnet: '10.1.2.0/24', rangeStart: '10.1.2.255' }, 'RangeStart 10.1.2.255 not in network 10.1.2.0/24', 'r.rangeStart'],
    [{ subnet: '10.1.2.0/24', rangeStart: '2001:db8::1' }, 'RangeStart 2001:db8::1 not in network 10.1.2.0/24', 'r.rangeStart'],
    [{ subnet: '10.1.2.0/24', rangeEnd: 'x' }, 'invalid IP address: x', 'r.rangeEnd'],
    [{ subnet: '10.1.2.0/24', gateway: '10.1.2' }, 'invalid IP address: 10.1.2', 'r.gateway']
  ]
  for (const [s, msg, field] of cases) {
    t.throws(() => parseRange(spec(s)), { name: 'InvalidRangeError', message: msg, field }, JSON.stringify(s))
  }
})

t.test('gateway outside the subnet: accepted with a warning', async t => {
  const warnings: string[] = []
  const r = parseRange({ path: 'ipam.ranges[0][0]', subnet: '10.1.2.0/24', gateway: '10.9.9.9' }, warnings)
  t.equal(formatIPText(r.gateway), '10.9.9.9')
  t.same(warnings, ['ipam.ranges[0][0].gateway: gateway 10.9.9.9 is outside subnet 10.1.2.0/24'])
  parseRange({ path: 'x', subnet: '10.1.2.0/24', gateway: '10.1.2.254' }, warnings)
  t.equal(warnings.length, 1, 'no warning for a gateway inside')
})

t.test('overlap table (range_test.go)', async t => {
  const r = (subnet: string, rangeStart?: string, rangeEnd?: string): ReturnType<typeof parseRange> =>
    parseRange(spec({ subnet, rangeStart, rangeEnd }))
  t.ok(r('10.0.0.0/24').overlaps(r('10.0.0.0/24')), 'identical')
  t.ok(r('10.0.0.0/20').overlaps(r('10.0.1.0/24')), 'containing')
  t.ok(r('10.0.1.0/24').overlaps(r('10.0.0.0/20')), 'contained')
  t.notOk(r('10.0.0.0/24', '10.0.0.0', '10.0.0.127').overlaps(r('10.0.0.0/24', '10.0.0.128')), '.0-.127 vs .128-')
  t.ok(r('10.0.0.0/24', '10.0.0.0', '10.0.0.127').overlaps(r('10.0.0.0/24', '10.0.0.127')), '…-.127 vs .127-')
  t.notOk(r('10.0.0.0/24').overlaps(r('2001:db8::/64')), 'different families never overlap')
  t.notOk(r('10.0.0.0/24').overlaps(r('10.0.1.0/24')), 'disjoint')
})

t.test('range sets', async t => {
  const set = parseRangeSet([
    { path: 's[0]', subnet: '192.168.0.0/24', rangeStart: '192.168.0.10', rangeEnd: '192.168.0.20' },
    { path: 's[1]', subnet: '172.16.1.0/24' }
  ], 's')
  t.equal(set.toString(), '192.168.0.10-192.168.0.20,172.16.1.1-172.16.1.254')
  t.equal(set.family, 4)
  t.equal(set.rangeFor(ip('172.16.1.9'))?.subnetText(), '172.16.1.0/24')
  t.equal(set.rangeFor(ip('192.168.0.9')), undefined, 'before rangeStart')
  t.ok(set.contains(ip('192.168.0.20')))
  t.equal(set.capacity(), 11n + 253n)

  t.throws(() => parseRangeSet([], 'ipam.ranges[3]'), { message: 'empty range set', field: 'ipam.ranges[3]' })
  t.throws(() => parseRangeSet([{ path: 'a', subnet: '10.0.0.0/24' }, { path: 'b', subnet: '2001:db8::/64' }], 's'),
    { message: 'mixed address families', field: 'b' })
  t.throws(() => parseRangeSet([
    { path: 'a', subnet: '10.0.0.0/24' },
    { path: 'b', subnet: '10.0.0.0/24', rangeStart: '10.0.0.100' }
  ], 's'), { message: 'subnets 10.0.0.1-10.0.0.254 and 10.0.0.100-10.0.0.254 overlap', field: 'b' })
  t.type(new InvalidRangeError('x', 'y'), Error)
})
