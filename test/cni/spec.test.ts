// The small spec modules: error JSON, env rules, versions, Go JSON helpers.
import t from 'tap'
import {
  CniError, toCniError, ErrIncompatibleCNIVersion, ErrUnsupportedField, ErrUnknownContainer, ErrInvalidEnvironmentVariables,
  ErrIOFailure, ErrDecodingFailure, ErrInvalidNetworkConfig, ErrInvalidNetNS, ErrTryAgainLater, ErrPluginNotAvailable,
  ErrLimitedConnectivity, ErrInternal
} from '../../src/cni/errors.js'
import { readCniEnv, validateInterfaceName, validateContainerId, splitPath } from '../../src/cni/env.js'
import {
  SUPPORTED_VERSIONS, parseVersion, compareVersions, versionAtLeast, checkVersionSupported, checkCommandAllowed, versionOutput
} from '../../src/cni/version.js'
import { fieldCI, goQuote, goQuoteList, marshalIndent } from '../../src/cni/json.js'

t.test('error codes and JSON', async t => {
  t.same([ErrIncompatibleCNIVersion, ErrUnsupportedField, ErrUnknownContainer, ErrInvalidEnvironmentVariables, ErrIOFailure,
    ErrDecodingFailure, ErrInvalidNetworkConfig, ErrInvalidNetNS, ErrTryAgainLater, ErrPluginNotAvailable, ErrLimitedConnectivity, ErrInternal],
  [1, 2, 3, 4, 5, 6, 7, 8, 11, 50, 51, 999])
  const e = new CniError(7, 'invalid network config', 'mtu: expected int')
  t.equal(e.message, 'invalid network config; mtu: expected int', 'Error() text as Go')
  t.same(e.toJSON('1.0.0'), { cniVersion: '1.0.0', code: 7, msg: 'invalid network config', details: 'mtu: expected int' })
  t.same(Object.keys(e.toJSON('1.0.0')), ['cniVersion', 'code', 'msg', 'details'])
  t.same(new CniError(11, 'later').toJSON('0.4.0'), { cniVersion: '0.4.0', code: 11, msg: 'later' }, 'empty details omitted')
  t.same(JSON.parse(JSON.stringify(new CniError(5, 'io'))), { code: 5, msg: 'io' }, 'JSON.stringify leaves cniVersion out')
  t.ok(e instanceof Error)
  const plain = toCniError(new Error('boom'))
  t.equal(plain.code, 999)
  t.equal(plain.msg, 'boom')
  t.equal(toCniError(e), e)
  t.equal(toCniError(new Error('wrap', { cause: e })), e)
  t.equal(toCniError('text').msg, 'text')
})

t.test('env: required per command, lenient DEL, override flag', async t => {
  const env = readCniEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc', CNI_NETNS: '/n', CNI_IFNAME: 'eth0', CNI_PATH: '/a:/b:', CNI_ARGS: 'K=V', CNI_NETNS_OVERRIDE: 'True' })
  t.same(env, { command: 'ADD', containerId: 'abc', netns: '/n', ifname: 'eth0', args: 'K=V', path: '/a:/b:', paths: ['/a', '/b'], netnsOverride: true })
  t.throws(() => readCniEnv({}), { code: 4, msg: 'required env variables [CNI_COMMAND] missing' })
  t.throws(() => readCniEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: '' }), { msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing' })
  t.throws(() => readCniEnv({ CNI_COMMAND: 'CHECK' }), { msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing' })
  t.throws(() => readCniEnv({ CNI_COMMAND: 'DEL' }), { msg: 'required env variables [CNI_CONTAINERID,CNI_IFNAME] missing' })
  t.throws(() => readCniEnv({ CNI_COMMAND: 'GC' }), { msg: 'required env variables [CNI_PATH] missing' })
  t.equal(readCniEnv({ CNI_COMMAND: 'STATUS' }).command, 'STATUS')
  t.equal(readCniEnv({ CNI_COMMAND: 'VERSION' }).command, 'VERSION')
  t.equal(readCniEnv({ CNI_COMMAND: 'NOPE' }).command, 'NOPE', 'unknown commands are rejected later, by the skel')
  t.equal(readCniEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'a', CNI_IFNAME: 'e', CNI_NETNS_OVERRIDE: '0' }).netnsOverride, false)
  t.same(splitPath(''), [])
  t.same(splitPath('::/x'), ['/x'])
})

t.test('containerID and ifname rules', async t => {
  for (const ok of ['a', 'A1', '0abc', 'a_b.c-d', 'x'.repeat(200)]) t.doesNotThrow(() => validateContainerId(ok), ok)
  for (const bad of ['_a', '.a', '-a', 'a/b', 'a b', 'a:b', 'é']) {
    t.throws(() => validateContainerId(bad), { code: 4, msg: 'invalid characters in containerID', details: bad }, bad)
  }
  t.throws(() => validateInterfaceName(''), { code: 4, msg: 'interface name is empty' })
  t.throws(() => validateInterfaceName('a23456789012345x'), { msg: 'interface name is too long', details: 'interface name should be less than 16 characters' })
  t.doesNotThrow(() => validateInterfaceName('a23456789012345'))
  for (const bad of ['a\tb', 'a\nb', 'a\u00a0b', 'a\u3000b']) {
    t.throws(() => validateInterfaceName(bad), { msg: 'interface name contains / or : or whitespace characters' }, JSON.stringify(bad))
  }
})

t.test('versions: parse, compare, gate, reconcile', async t => {
  t.same(SUPPORTED_VERSIONS, ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'])
  t.same(parseVersion(''), [0, 1, 0])
  t.same(parseVersion('1'), [1, 0, 0])
  t.same(parseVersion('0.4'), [0, 4, 0])
  t.same(parseVersion('1.10.3'), [1, 10, 3])
  t.throws(() => parseVersion('1.2.3.4'), { message: 'invalid version "1.2.3.4": too many parts' })
  t.throws(() => parseVersion('x.1'), { message: 'failed to convert major version part "x": strconv.Atoi: parsing "x": invalid syntax' })
  t.throws(() => parseVersion('1..0'), { message: 'failed to convert minor version part "": strconv.Atoi: parsing "": invalid syntax' })
  t.ok(compareVersions('0.3.1', '0.3.0') > 0)
  t.ok(compareVersions('0.10.0', '0.9.0') > 0, 'numeric, not textual')
  t.equal(compareVersions('1.0', '1.0.0'), 0)
  t.ok(versionAtLeast('1.1.0', '1.1.0'))
  t.notOk(versionAtLeast('0.3.1', '0.4.0'))
  t.doesNotThrow(() => checkVersionSupported('0.3.1'))
  t.throws(() => checkVersionSupported('1.0'), { code: 1, msg: 'incompatible CNI versions', details: 'config is "1.0", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0" "1.1.0"]' })
  t.doesNotThrow(() => checkCommandAllowed('ADD', '0.1.0'))
  t.doesNotThrow(() => checkCommandAllowed('DEL', 'garbage'), 'ADD/DEL are not gated')
  t.throws(() => checkCommandAllowed('CHECK', '0.3.1'), { code: 1, msg: 'config version does not allow CHECK' })
  t.doesNotThrow(() => checkCommandAllowed('CHECK', '0.4.0'))
  t.throws(() => checkCommandAllowed('GC', '1.0.0'), { code: 1, msg: 'config version does not allow GC' })
  t.throws(() => checkCommandAllowed('STATUS', '1.0.0'), { code: 1, msg: 'config version does not allow STATUS' })
  t.throws(() => checkCommandAllowed('STATUS', '1.2.0'), { code: 1, msg: 'plugin version does not allow STATUS' })
  t.throws(() => checkCommandAllowed('GC', 'v1'), { code: 6 })
  t.equal(versionOutput(), '{"cniVersion":"1.1.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n')
})

t.test('Go JSON helpers', async t => {
  t.equal(fieldCI({ mtu: 1, MTU: 2 }, 'mtu'), 2, 'last case variant wins')
  t.equal(fieldCI({ Mtu: 3 }, 'mtu'), 3)
  t.equal(fieldCI({ mtux: 3 }, 'mtu'), undefined)
  t.equal(goQuote('a"b\\c\n\t\x01é'), '"a\\"b\\\\c\\n\\t\\x01é"')
  t.equal(goQuoteList(['0.1.0', 'x y']), '["0.1.0" "x y"]')
  t.equal(marshalIndent({ a: [1, { b: '<&>' }] }), '{\n    "a": [\n        1,\n        {\n            "b": "\\u003c\\u0026\\u003e"\n        }\n    ]\n}')
})
