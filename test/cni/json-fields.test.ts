// The one JSON field reader (src/cni/json.ts fieldCI/typedField) and its rule,
// seen through every reader built on it: a key matches in any ASCII case and
// the last match wins (Go's encoding/json matches struct fields
// case-insensitively, each later key overwriting); null is an absent field
// (the default); "" is a string, left to the caller to judge as upstream does
// after decoding (bridge "" → cni0, dataDir "" → the default directory,
// CNI_ARGS-style options "" → none, dns.domain "" → omitted).
import t from 'tap'
import { CniError } from '../../src/cni/errors.js'
import { fieldCI, typedField } from '../../src/cni/json.js'
import { argsCniMAC, capabilityMAC } from '../../src/cni/args.js'
import { configVersion, normalizeKeys } from '../../src/cni/config.js'
import { parseResult } from '../../src/cni/result.js'
import { readGCAttachments } from '../../src/cni/gc.js'
import { loadBridgeConfig } from '../../src/plugins/bridge/config.js'
import { loadIPAMConfig } from '../../src/ipam/config.js'
import { schema as bridgeSchema } from '../../src/plugins/bridge/schema.js'

t.test('fieldCI: any case, last wins, null absent, "" kept', async t => {
  t.equal(fieldCI({ mtu: 1, MTU: 2 }, 'mtu'), 2)
  t.equal(fieldCI({ MTU: 2, mtu: null }, 'mtu'), undefined, 'a later null: absent')
  t.equal(fieldCI({ mtu: null }, 'mtu'), undefined)
  t.equal(fieldCI({ bridge: '' }, 'bridge'), '')
  t.equal(typedField({ v: null }, 'v', 'int', () => new Error('x')), undefined)
  t.equal(typedField({ v: '' }, 'v', 'string', () => new Error('x')), '')
  t.throws(() => typedField({ v: '' }, 'v', 'int', () => new Error('wrong')), /wrong/, '"" is a string, not an absent int')
  t.throws(() => typedField({ v: 1.5 }, 'v', 'int', () => new Error('wrong')), /wrong/)
})

t.test('every reader: null is absent', async t => {
  t.equal(configVersion({ cniVersion: null }), '0.1.0')
  t.equal(argsCniMAC({ args: { cni: { mac: null } } }), undefined)
  t.equal(capabilityMAC({ runtimeConfig: null }), undefined)
  t.equal(readGCAttachments({ 'cni.dev/valid-attachments': null }), undefined)
  t.same(parseResult({ cniVersion: '1.0.0', ips: null, dns: null, routes: [{ dst: '10.0.0.0/8', gw: null }] }, '1.0.0'),
    { cniVersion: '1.0.0', routes: [{ dst: '10.0.0.0/8' }] })
  t.same(normalizeKeys({ MTU: 1500, mtu: null }, bridgeSchema), {})
  const b = await loadBridgeConfig({ name: 'n', BRIDGE: 'br0', bridge: null, mtu: null, vlanTrunk: null, dns: null })
  t.equal(b.bridge, 'cni0')
  t.equal(b.mtu, 0)
  t.equal(b.vlanTrunkGiven, false)
  t.equal(b.dns, undefined)
  const i = await loadIPAMConfig({ name: 'n', ipam: { type: 'host-local', subnet: '10.1.0.0/24', dataDir: null, routes: null } }, { name: 'n', cniVersion: '1.0.0', cniArgs: '' })
  t.equal(i.dataDir, '/var/lib/cni/networks')
  t.same(i.routes, [])
})

t.test('every reader: "" is a string the caller judges', async t => {
  t.equal(configVersion({ cniVersion: '' }), '0.1.0', 'skel: "" is the default version (upstream)')
  t.equal(argsCniMAC({ args: { cni: { mac: '' } } }), undefined, 'args: "" is no MAC (upstream tests != "")')
  t.same(parseResult({ cniVersion: '1.0.0', dns: { domain: '' } }, '1.0.0'), { cniVersion: '1.0.0' }, 'result: an empty domain is omitted (omitempty)')
  t.equal((await loadBridgeConfig({ name: 'n', bridge: '' })).bridge, 'cni0', 'bridge: "" is cni0 (upstream)')
  t.equal((await loadBridgeConfig({ name: 'n', ipMasqBackend: '' })).ipMasqBackend, '', 'a string option keeps ""')
  const i = await loadIPAMConfig({ name: 'n', ipam: { type: 'host-local', subnet: '10.1.0.0/24', dataDir: '' } }, { name: 'n', cniVersion: '1.0.0', cniArgs: '' })
  t.equal(i.dataDir, '/var/lib/cni/networks', 'host-local: "" dataDir is the default (upstream)')
  // "" where a number belongs is a wrong type everywhere, never "absent".
  await t.rejects(loadBridgeConfig({ name: 'n', mtu: '' }), CniError)
  await t.rejects(loadIPAMConfig({ name: 'n', ipam: { type: 'host-local', subnet: '10.1.0.0/24', reclaimAfterReboot: '' } }, { name: 'n', cniVersion: '1.0.0', cniArgs: '' }), CniError)
})
