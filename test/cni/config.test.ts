// The base config checks and the zod-based validation helpers: Go's
// case-insensitive keys, null = default, errors as code 7 naming the field.
import t from 'tap'
import { z } from 'zod'
import {
  parseNetworkConfig, parseConfigJSON, configVersion, checkNetworkName, validateWithSchema, validateWith, normalizeKeys, formatPath
} from '../../src/cni/config.js'

t.test('base fields', async t => {
  t.same(parseNetworkConfig(Buffer.from('{"cniVersion":"1.0.0","name":"mynet","type":"bridge"}')),
    { config: { cniVersion: '1.0.0', name: 'mynet', type: 'bridge' }, name: 'mynet', cniVersion: '1.0.0' })
  t.equal(parseNetworkConfig('{"name":"n"}').cniVersion, '0.1.0')
  t.equal(parseNetworkConfig('{"name":"n","cniVersion":null}').cniVersion, '0.1.0')
  t.equal(parseNetworkConfig('{"Name":"n","CniVersion":"0.4.0"}').name, 'n')
  t.equal(parseNetworkConfig('{"name":"a","NAME":"b"}').name, 'b', 'last duplicate wins')
  t.throws(() => parseConfigJSON(''), { code: 6, msg: 'error unmarshall network config: unexpected end of JSON input' })
  t.throws(() => parseConfigJSON('{"a":1} x'), { code: 6, msg: /^error unmarshall network config: invalid JSON: / })
  t.throws(() => parseConfigJSON('[]'), { code: 6, msg: 'error unmarshall network config: expected a JSON object, got array' })
  t.throws(() => parseConfigJSON('5'), { code: 6, msg: 'error unmarshall network config: expected a JSON object, got number' })
  t.throws(() => checkNetworkName({ name: true }), { code: 6, msg: 'error unmarshall network config: field "name" must be a string, got bool' })
  t.throws(() => checkNetworkName({}), { code: 7, msg: 'missing network name' })
  t.throws(() => checkNetworkName({ name: 'my net' }), { code: 7, msg: 'invalid characters found in network name', details: 'my net' })
  t.throws(() => configVersion({ cniVersion: ['1.0.0'] }), { code: 6, msg: 'decoding version from network config: field "cniVersion" must be a string, got array' })
})

const bridgeLike = z.object({
  bridge: z.string().default('cni0'),
  mtu: z.number().int().min(0).optional(),
  isGateway: z.boolean().default(false),
  vlan: z.number().int().min(0).max(4094).default(0),
  ipMasqBackend: z.enum(['iptables', 'nftables']).optional(),
  ipam: z.object({ type: z.string().default(''), ranges: z.array(z.array(z.object({ subnet: z.string() }))).optional() }).default({ type: '' }),
  vlanTrunk: z.array(z.union([z.object({ id: z.number() }), z.object({ minID: z.number(), maxID: z.number() })])).optional(),
  tags: z.record(z.string(), z.object({ value: z.string() })).optional()
})

t.test('normalizeKeys: Go matching before validation', async t => {
  t.same(normalizeKeys({ BRIDGE: 'br0', MTU: 1300, other: 1 }, bridgeLike), { bridge: 'br0', mtu: 1300, other: 1 })
  t.same(normalizeKeys({ mtu: 1, Mtu: 2 }, bridgeLike), { mtu: 2 }, 'the last match wins')
  t.same(normalizeKeys({ mtu: null, bridge: null }, bridgeLike), {}, 'null = absent')
  t.same(normalizeKeys({ IPAM: { TYPE: 'host-local', Ranges: [[{ SUBNET: '10.0.0.0/24' }]] } }, bridgeLike),
    { ipam: { type: 'host-local', ranges: [[{ subnet: '10.0.0.0/24' }]] } }, 'nested objects and arrays')
  t.same(normalizeKeys({ vlanTrunk: [{ ID: 5 }, { MinID: 1, maxid: 3 }] }, bridgeLike), { vlanTrunk: [{ id: 5 }, { minID: 1, maxID: 3 }] }, 'unions: the object option')
  t.same(normalizeKeys({ tags: { Any: { VALUE: 'x' } } }, bridgeLike), { tags: { Any: { value: 'x' } } }, 'record keys kept, values normalised')
  const input = { MTU: 1 }
  normalizeKeys(input, bridgeLike)
  t.same(input, { MTU: 1 }, 'input not modified')
  t.equal(normalizeKeys('x', bridgeLike), 'x')
  t.same(normalizeKeys({ A: 1 }, undefined), { A: 1 })
})

t.test('validateWith: defaults, Go quirks, code 7 naming each field', async t => {
  t.same(validateWith({ name: 'n', BRIDGE: 'br0', MTU: 1500, isGateway: null, unknownKey: 1 }, bridgeLike),
    { bridge: 'br0', mtu: 1500, isGateway: false, vlan: 0, ipam: { type: '' } })
  const err = (fn: () => unknown): any => { try { fn(); return undefined } catch (e) { return e } }
  const e1 = err(() => validateWith({ mtu: 'big' }, bridgeLike))
  t.equal(e1.code, 7)
  t.equal(e1.msg, 'invalid network config')
  t.equal(e1.details, 'mtu: expected number, got string "big"')
  const e2 = err(() => validateWith({ vlan: 5000, ipMasqBackend: 'pf', ipam: { ranges: [[{ subnet: 1 }]] }, isGateway: 'true' }, bridgeLike, { msg: 'failed to load netconf' }))
  t.equal(e2.msg, 'failed to load netconf')
  t.match(e2.details, 'isGateway: expected boolean, got string "true"')
  t.match(e2.details, 'vlan: value must be <= 4094, got number 5000')
  t.match(e2.details, 'ipMasqBackend: expected one of "iptables", "nftables", got string "pf"')
  t.match(e2.details, 'ipam.ranges[0][0].subnet: expected string, got number 1')
  t.equal(e2.details.split('; ').length, 4)
  const e3 = err(() => validateWith({ vlanTrunk: [{ id: 'x' }] }, bridgeLike))
  t.match(e3.details, /^vlanTrunk\[0\]/)
  const e4 = err(() => validateWith({ ipam: { ranges: [[{}]] } }, bridgeLike))
  t.equal(e4.details, 'ipam.ranges[0][0].subnet: required (expected string)')
  const refined = z.object({ vlan: z.number().refine(v => v !== 13, { message: 'invalid VLAN ID 13' }) })
  t.equal(err(() => validateWith({ vlan: 13 }, refined)).details, 'vlan: invalid VLAN ID 13')
  const e5 = err(() => validateWith(5, bridgeLike))
  t.equal(e5.details, '(root): expected object, got number 5')
})

t.test('validateWithSchema loads the schema lazily', async t => {
  t.same(await validateWithSchema({ MTU: 9000 }, bridgeLike), { bridge: 'cni0', mtu: 9000, isGateway: false, vlan: 0, ipam: { type: '' } })
  let loaded = 0
  const loader = async (): Promise<{ schema: typeof bridgeLike }> => { loaded++; return { schema: bridgeLike } }
  t.equal(loaded, 0)
  t.equal((await validateWithSchema({ bridge: 'x' }, loader)).bridge, 'x')
  t.equal(loaded, 1)
  t.equal((await validateWithSchema({ bridge: 'y' }, async () => ({ default: bridgeLike }))).bridge, 'y')
  t.equal((await validateWithSchema({ bridge: 'z' }, () => bridgeLike)).bridge, 'z')
  await t.rejects(validateWithSchema({ mtu: -1 }, loader), { code: 7, details: 'mtu: value must be >= 0, got number -1' })
  await t.rejects(validateWithSchema({}, async () => ({}) as any), { message: /schema loader returned no schema/ })
  const mini = await import('zod/mini')
  const m = mini.object({ mtu: mini.optional(mini.number()) })
  t.same(await validateWithSchema({ MTU: 5 }, m), { mtu: 5 }, 'zod/mini schemas work too')
})

t.test('formatPath', async t => {
  t.equal(formatPath([]), '(root)')
  t.equal(formatPath(['ipam', 'ranges', 0, 1, 'subnet']), 'ipam.ranges[0][1].subnet')
  t.equal(formatPath([0, 'a']), '[0].a')
})
