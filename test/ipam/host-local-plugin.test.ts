// The plugin functions called directly and through the skel in process:
// what a runtime cannot reach through the skel's checks (an untrimmed
// container ID, as upstream's own tests pass it) and the log lines.
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger, PluginContext } from '../../src/cni/skel.js'
import { LOCAL_CALLER } from '../../src/cni/caller.js'
import { runPluginWith } from '../../src/cni/skel.js'
import { hostLocal } from '../../src/plugins/host-local/index.js'
import { tempDir } from '../helpers/ipam-exec.js'

function context (config: Record<string, unknown>, over: Partial<PluginContext> = {}): PluginContext & { lines: string[] } {
  const lines: string[] = []
  const log: Logger = {
    error: m => lines.push(`error: ${m}`),
    warn: m => lines.push(`warn: ${m}`),
    info: m => lines.push(`info: ${m}`),
    debug: m => lines.push(`debug: ${m}`)
  }
  return {
    command: 'ADD',
    containerId: 'dummy',
    netns: '/some/where',
    ifname: 'eth0',
    cniArgs: '',
    path: ['/usr/lib/cni'],
    stdin: Buffer.from(JSON.stringify(config)),
    config,
    name: String(config.name),
    cniVersion: String(config.cniVersion),
    prevResult: undefined,
    env: {},
    log,
    stderr: () => {},
    caller: LOCAL_CALLER,
    lines,
    ...over
  }
}

t.test('the container ID is trimmed in the file, as upstream does', async t => {
  const dataDir = tempDir(t)
  const config = { cniVersion: '1.1.0', name: 'mynet', ipam: { type: 'host-local', dataDir, subnet: '10.1.2.0/24' } }
  const result = await hostLocal.add(context(config, { containerId: '   dummy\n ' }))
  t.same(result, { cniVersion: '1.1.0', ips: [{ address: '10.1.2.2/24', gateway: '10.1.2.1' }] })
  t.equal(readFileSync(join(dataDir, 'mynet', '10.1.2.2'), 'latin1'), 'dummy\r\neth0')
  await hostLocal.del(context(config, { command: 'DEL', containerId: 'dummy' }))
  t.same(readdirSync(join(dataDir, 'mynet')).sort(), ['last_reserved_ip.0', 'lock'])
})

t.test('GC logs what it released; STATUS passes with room left', async t => {
  const dataDir = tempDir(t)
  const config = { cniVersion: '1.1.0', name: 'n', ipam: { type: 'host-local', dataDir, subnet: '10.1.2.0/24' } }
  await hostLocal.add(context(config, { containerId: 'a' }))
  await hostLocal.add(context(config, { containerId: 'b' }))
  const gc = context({ ...config, 'cni.dev/valid-attachments': [{ containerID: 'b', ifname: 'eth0' }] }, { command: 'GC' })
  await hostLocal.gc!(gc)
  t.same(gc.lines, ['info: released stale reservations: 10.1.2.2'])
  await t.resolves(hostLocal.status!(context(config, { command: 'STATUS' })))
})

t.test('through the skel in process: result printed in the config version', async t => {
  const dataDir = tempDir(t)
  let stdout = ''
  let stderr = ''
  const code = await runPluginWith(hostLocal, {
    env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'x', CNI_NETNS: '/n', CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' },
    stdin: JSON.stringify({ cniVersion: '0.2.0', name: 'n', ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: 'fd00::/120' }]] } }),
    stdout: s => { stdout += s },
    stderr: s => { stderr += s }
  })
  t.equal(code, 0, stdout)
  t.same(JSON.parse(stdout), { cniVersion: '0.2.0', ip6: { ip: 'fd00::2/120', gateway: 'fd00::1' }, dns: {} })
  t.equal(stderr, '')
  t.equal(readFileSync(join(dataDir, 'n', 'fd00::2'), 'latin1'), 'x\r\neth0', 'IPv6 file named by the compressed address')
})
