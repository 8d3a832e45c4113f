// CNI_ARGS exactly as Go's types.LoadArgs (reference §1.9), and the
// args.cni / runtimeConfig accessors.
import t from 'tap'
import {
  parseCniArgs, argParsers, runtimeConfig, argsCni, capabilityIPs, capabilityMAC, capabilityIPRanges, argsCniIPs, argsCniMAC
} from '../../src/cni/args.js'

const bridgeArgs = { MAC: argParsers.string }
const hostLocalArgs = { IP: argParsers.ip }

t.test('pairs and known keys', async t => {
  t.same(parseCniArgs('', bridgeArgs), {})
  t.same(parseCniArgs('MAC=aa:bb:cc:dd:ee:ff', bridgeArgs), { MAC: 'aa:bb:cc:dd:ee:ff' })
  t.same(parseCniArgs('MAC=1;MAC=2', bridgeArgs), { MAC: '2' }, 'the last value wins')
  t.same(parseCniArgs('MAC=', bridgeArgs), { MAC: '' })
  t.same(parseCniArgs('IP=10.1.2.3', hostLocalArgs), { IP: '10.1.2.3' })
  t.same(parseCniArgs('IP=2001:DB8::0:1', hostLocalArgs), { IP: '2001:db8::1' })
})

t.test('invalid pairs', async t => {
  for (const [raw, pair] of [['MAC', 'MAC'], ['MAC=a;', ''], ['MAC=a=b', 'MAC=a=b'], [';MAC=a', ''], ['A=1;;B=2', '']]) {
    t.throws(() => parseCniArgs(raw!, bridgeArgs), { code: 4, msg: `ARGS: invalid pair "${pair!}"` }, raw)
  }
})

t.test('unknown keys', async t => {
  t.throws(() => parseCniArgs('ip=10.0.0.1', hostLocalArgs), { msg: 'ARGS: unknown args ["ip=10.0.0.1"]' }, 'keys are case-sensitive')
  t.throws(() => parseCniArgs('A=1;MAC=x;B=2', bridgeArgs), { msg: 'ARGS: unknown args ["A=1" "B=2"]' })
  const k8s = 'IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_INFRA_CONTAINER_ID=abc;K8S_POD_UID=u'
  t.same(parseCniArgs(k8s, bridgeArgs), { IgnoreUnknown: true })
  t.same(parseCniArgs('A=1;IgnoreUnknown=true;MAC=m', bridgeArgs), { IgnoreUnknown: true, MAC: 'm' }, 'order does not matter')
  t.same(parseCniArgs('A=1;IgnoreUnknown=TRUE', bridgeArgs), { IgnoreUnknown: true })
  t.throws(() => parseCniArgs('A=1;IgnoreUnknown=0', bridgeArgs), { msg: 'ARGS: unknown args ["A=1"]' })
  t.throws(() => parseCniArgs('IgnoreUnknown=1;A=1;IgnoreUnknown=false', bridgeArgs), { msg: 'ARGS: unknown args ["A=1"]' }, 'its last value counts')
  t.throws(() => parseCniArgs('IgnoreUnknown=yes', bridgeArgs),
    { msg: 'ARGS: error parsing value of pair "IgnoreUnknown=yes": boolean unmarshal error: invalid input yes' })
  t.throws(() => parseCniArgs('IgnoreUnknown=YES', bridgeArgs),
    { msg: 'ARGS: error parsing value of pair "IgnoreUnknown=YES": boolean unmarshal error: invalid input yes' }, 'Go prints the lowercased input')
  t.throws(() => parseCniArgs('IP=banana', hostLocalArgs), { msg: 'ARGS: error parsing value of pair "IP=banana": invalid IP address: banana' })
  t.throws(() => parseCniArgs('toString=x', {}), { msg: 'ARGS: unknown args ["toString=x"]' }, 'no prototype keys')
})

t.test('runtimeConfig and args.cni', async t => {
  const config = {
    name: 'n',
    RuntimeConfig: { IPs: ['10.0.0.5/24', '2001:db8::5'], mac: 'c2:11:22:33:44:55', ipRanges: [[{ subnet: '10.0.0.0/24' }]] },
    args: { cni: { ips: ['10.0.0.6'], mac: '02:00:00:00:00:01', labels: [{ key: 'a', value: 'b' }] } }
  }
  t.same(capabilityIPs(config), ['10.0.0.5/24', '2001:db8::5'])
  t.equal(capabilityMAC(config), 'c2:11:22:33:44:55')
  t.same(capabilityIPRanges(config), [[{ subnet: '10.0.0.0/24' }]])
  t.same(argsCniIPs(config), ['10.0.0.6'])
  t.equal(argsCniMAC(config), '02:00:00:00:00:01')
  t.same(argsCni(config)?.labels, [{ key: 'a', value: 'b' }])
  t.equal(runtimeConfig({ name: 'n' }), undefined)
  t.equal(capabilityIPs({ name: 'n', runtimeConfig: { ips: null } }), undefined)
  t.equal(argsCniMAC({ name: 'n', args: null }), undefined)
  t.throws(() => capabilityIPs({ runtimeConfig: { ips: '10.0.0.1' } }),
    { code: 7, msg: 'invalid network config', details: 'runtimeConfig.ips: expected an array of strings, got string' })
  t.throws(() => argsCniMAC({ args: { cni: { mac: 5 } } }), { code: 7, details: 'args.cni.mac: expected a string, got number' })
  t.throws(() => argsCni({ args: [] }), { code: 7, details: 'args: expected an object, got array' })
  t.throws(() => capabilityIPRanges({ runtimeConfig: { ipRanges: {} } }), { code: 7, details: 'runtimeConfig.ipRanges: expected an array of range sets, got object' })
})
